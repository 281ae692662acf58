"""Who may decide an approval: the rule, as a plain function over what the store looked up.

Holding ``approvals:write`` is not enough. The decider must be

- the approval's named approver ("dana.smith"), or
- a holder of the approval's role ("finance_manager"; "manager" for "manager:E1001"), or, at the
  first level only, of the route's ``approver_role`` (a second level exists precisely because the
  first level's role is not enough), or
- the delegate of somebody who is one of the above, while the delegation is in force;

and nobody decides two levels of the same request (four eyes). Approvers, roles and principals are
plain names; the gateway's ``client:<id>`` prefix is stripped before they are compared.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

CLIENT_PREFIX = "client:"


def principal_name(actor: str) -> str:
    """``client:dana`` -> ``dana``: the person behind a gateway actor name."""
    return actor.removeprefix(CLIENT_PREFIX)


def role_of(approver: str) -> str:
    """The role an approver string names: "manager:E1001" -> "manager"; "cfo" -> "cfo"."""
    return approver.partition(":")[0]


@dataclass(frozen=True)
class Authority:
    """Why a principal may decide: ``basis`` for the audit entry, ``on_behalf_of`` when delegated."""

    principal: str
    basis: str
    on_behalf_of: str | None = None


def own_authority(
    principal: str, approver: str, roles: Collection[str], *, stage: int, route_role: str | None
) -> str | None:
    """Why ``principal`` (holding ``roles``) may decide an approval held by ``approver``, or None."""
    if principal_name(principal) == principal_name(approver):
        return "named approver"
    role = role_of(approver)
    if role in roles:
        return f"holds role {role}"
    if stage == 1 and route_role and route_role in roles:
        return f"holds the route's approver role {route_role}"
    return None


def decision_authority(
    principal: str,
    approver: str,
    roles: Mapping[str, Collection[str]],
    delegators: Collection[str],
    *,
    stage: int = 1,
    route_role: str | None = None,
    earlier_deciders: Collection[str] = (),
) -> Authority | str:
    """The :class:`Authority` of ``principal`` over an approval, or the reason it has none.

    ``roles`` maps the principal and each of its ``delegators`` (people whose delegation to it is in
    force) to the roles they hold.
    """
    name = principal_name(principal)
    if name in {principal_name(d) for d in earlier_deciders}:
        return "already decided an earlier level of this request; another person must decide this one"
    basis = own_authority(name, approver, roles.get(name, ()), stage=stage, route_role=route_role)
    if basis is not None:
        return Authority(name, basis)
    for delegator in sorted(delegators):
        basis = own_authority(
            delegator, approver, roles.get(delegator, ()), stage=stage, route_role=route_role
        )
        if basis is not None:
            return Authority(name, f"delegate of {delegator} ({basis})", delegator)
    needed = f"role {role_of(approver)}" + (f" or {route_role}" if stage == 1 and route_role else "")
    return f"not the named approver, does not hold {needed}, and is nobody's delegate who does"
