"""netobs exceptions.

Every error is a `NetobsError`, an `OSError` built with `(errno, message)`,
so `.errno` is the kernel's errno and `.strerror` says what failed and what
to do. Where Python has a matching built-in class the netobs class derives
from it too, so `except PermissionError` works for EPERM.
"""

from __future__ import annotations

import errno as _errno
from typing import Optional


class NetobsError(OSError):
    """Base of every netobs error. `kernel_message` holds the kernel's own
    explanation (netlink extended ack) when it sent one."""

    kernel_message: Optional[str] = None


class NetobsPermissionError(NetobsError, PermissionError):
    """EPERM/EACCES: a capability is missing (the message names it)."""


class NotFoundError(NetobsError, FileNotFoundError):
    """ENOENT: a network namespace (see `.filename`) or a kernel object is missing."""


class InterfaceNotFoundError(NetobsError):
    """ENODEV: no interface of that name or index in the namespace."""


class NotSupportedError(NetobsError):
    """EOPNOTSUPP: the driver or kernel does not implement the request, a
    normal answer on virtual devices."""


class FilterError(NetobsError, ValueError):
    """The caller's input is invalid: a filter expression that does not
    parse (`.column` is the 1-based column of the offending token), an
    unknown socket state or statistics group, a configuration the kernel
    cannot take."""

    column: Optional[int] = None


_BY_ERRNO = {
    _errno.EPERM: NetobsPermissionError,
    _errno.EACCES: NetobsPermissionError,
    _errno.ENOENT: NotFoundError,
    _errno.ENODEV: InterfaceNotFoundError,
    _errno.EOPNOTSUPP: NotSupportedError,
}


_BY_KIND = {
    "permission": NetobsPermissionError,
    "not_found": NotFoundError,
    "unsupported": NotSupportedError,
    "invalid_input": FilterError,
}


def _from_errno(
    errno: Optional[int],
    message: str,
    kernel_message: Optional[str] = None,
    filename: Optional[str] = None,
    kind: Optional[str] = None,
    column: Optional[int] = None,
) -> NetobsError:
    """Builds the exception for an error of the Rust side
    (netobs-py/src/errors.rs): the class from the error's kind (an errno
    alone decides when the kind names none)."""
    cls = _BY_KIND.get(kind) if kind is not None else None
    if cls is NotFoundError and errno == _errno.ENODEV:
        cls = InterfaceNotFoundError
    if cls is None:
        cls = _BY_ERRNO.get(errno, NetobsError) if errno is not None else NetobsError
    if errno is None:
        exc = cls(message)
    elif filename is not None:
        exc = cls(errno, message, filename)
    else:
        exc = cls(errno, message)
    exc.kernel_message = kernel_message
    if column is not None:
        exc.column = column  # type: ignore[attr-defined]
    return exc
