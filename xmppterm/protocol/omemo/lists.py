"""Our own published device lists: taking a stale device off them (/devices remove).

A device stays on a list until someone removes it; clients that were uninstalled or
wiped leave theirs behind, and every message is then encrypted for a device nobody
reads (or, worse, that someone else now holds). Removing it publishes the list again
without it and deletes its bundle; if that device is still in use it will add itself
back the next time it connects, so only stale devices stay away.
"""

from __future__ import annotations

import logging

from omemo.session_manager import SessionManager

from .plugin import NAMESPACES, XtOmemo
from .port import OmemoRefused

log = logging.getLogger(__name__)


async def remove_device(manager: SessionManager, plugin: XtOmemo, own: str,
                        device_id: int) -> str:
    """Remove `device_id` from our lists (both OMEMO versions); the caller holds the lock."""
    removed = []
    for namespace in NAMESPACES:
        try:
            current = dict(await manager._download_device_list(namespace, own))
        except Exception as exc:
            raise OmemoRefused(f"Our device list could not be read ({type(exc).__name__}); "
                               "nothing was changed.") from None
        if device_id not in current:
            continue
        del current[device_id]
        try:
            await manager._upload_device_list(namespace, current)
        except Exception as exc:
            raise OmemoRefused(f"The server refused the new device list "
                               f"({type(exc).__name__}).") from None
        await manager.update_device_list(namespace, own, current)
        removed.append(namespace)
        try:
            await manager._delete_bundle(namespace, device_id)
        except Exception as exc:  # the list no longer names it: the bundle is harmless
            log.info("bundle of a removed device not deleted: %s", type(exc).__name__)
    plugin.forget_fetch(own)
    if not removed:
        raise OmemoRefused(f"Device {device_id} is not on your published device lists.")
    return (f"Device {device_id} was removed from your device list; messages are no "
            "longer encrypted for it. If it is still in use, it will add itself back.")
