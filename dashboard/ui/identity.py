"""Who is using this session: the signed-in user (OpenID Connect through ``st.login``) with
the role and area kept for them in the store, or, where sign-in is not configured, the
deployment's role for this computer and aggregates only for any other.

- Sign-in configured (an ``[auth]`` table in ``.streamlit/secrets.toml``): a visitor who is
  not signed in sees the sign-in screen only; a signed-in identity that is not a user gets a
  message saying whom to ask, and the refusal goes on record.
- Not configured: a request from this machine (loopback) keeps ``KUSIAO_ROLE``; any other
  client is a ``viewer`` and is told that sign-in is not configured.
"""

from __future__ import annotations

import ipaddress

import streamlit as st

from dashboard import store
from dashboard.store.privacy import Viewer, configured_role
from domain.filters import Area
from domain.i18n import t
from domain.reference import agency_names, amphoe_names

KEY_SIGNED_IN = "_signed_in_as"  # the e-mail whose sign-in is on record this session


def client_address() -> str | None:
    """The client's address as the server saw it; ``None`` for this machine (loopback).
    Streamlit gives ``None`` for a loopback client; a test replaces this function."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else None


def is_local(address: str | None) -> bool:
    """Whether a client address is this machine's. A server listening on every interface
    (Streamlit's default) sees 127.0.0.1 as the IPv4-mapped ``::ffff:127.0.0.1``."""
    if address is None:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def sign_in_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` has an ``[auth]`` table."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False
    except Exception:
        return False


def current_viewer(lang: str) -> Viewer:
    """The viewer of this run, or the sign-in screen (the run stops there)."""
    address = client_address()
    client = address or "local"
    if sign_in_configured():
        if not st.user.is_logged_in:
            _sign_in_screen(lang)
        email = str(st.user.get("email") or st.user.get("sub") or "").strip().lower()
        user = store.find_user(email)
        if user is None:
            anonymous = Viewer(role="viewer", email=email or "(unknown)", client=client)
            if st.session_state.get(KEY_SIGNED_IN) != ("refused", email):
                store.audit(anonymous, "refused", "sign-in: not a user")
                st.session_state[KEY_SIGNED_IN] = ("refused", email)
            st.error(t("signin.unknown", lang, email=email or "?"), icon=":material/block:")
            st.button(t("signin.sign_out", lang), on_click=st.logout, key="sign_out")
            st.stop()
        viewer = Viewer(role=user.role, area=user.area, email=user.email,
                        name=user.name or str(st.user.get("name") or user.email),
                        client=client)
        if st.session_state.get(KEY_SIGNED_IN) != ("in", email):
            store.audit(viewer, "sign_in", user.role)
            st.session_state[KEY_SIGNED_IN] = ("in", email)
        return viewer
    if is_local(address):
        return Viewer(role=configured_role(), client=client)
    return Viewer(role="viewer", client=client)


def _sign_in_screen(lang: str) -> None:
    st.title(t("signin.title", lang))
    st.write(t("signin.prompt", lang))
    st.button(t("signin.button", lang), on_click=st.login, type="primary", key="sign_in",
              icon=":material/login:")
    st.stop()


def area_text(area: Area, lang: str) -> str:
    if area.amphoe:
        names = amphoe_names(lang)
        return ", ".join(names.get(code, code) for code in area.amphoe)
    if area.agency:
        names = agency_names(lang)
        return ", ".join(names.get(code, code) for code in area.agency)
    return t("signin.everywhere", lang)


def who_is_signed_in(viewer: Viewer, lang: str) -> None:
    """The sidebar's note of who is signed in, their role and area, and the way out; or that
    sign-in is not configured."""
    role = t(f"role.{viewer.role}", lang)
    if viewer.email:
        st.caption(t("signin.signed_in", lang, name=viewer.name) + "  \n"
                   + t("signin.role_area", lang, role=role, area=area_text(viewer.area, lang)))
        st.button(t("signin.sign_out", lang), on_click=st.logout, key="sign_out",
                  icon=":material/logout:")
    elif is_local(None if viewer.client == "local" else viewer.client):
        st.caption(t("signin.local", lang) + "  \n"
                   + t("signin.role_area", lang, role=role, area=area_text(viewer.area, lang)))
    else:
        st.warning(t("signin.not_configured", lang), icon=":material/lock:")
