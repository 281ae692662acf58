"""One module per emulated system, each exporting ``VENDOR`` (found by ``discover_vendors``)."""
