"""errors.py: pixab.Error and its subclasses, one per status of the C library
(pixab_status), each carrying the library's one-line message and the status;
raise_for turns a failed call's status and this thread's reason into one."""
import enum

from ._lib import last_error, lib


class Status(enum.IntEnum):
    """pixab_status (include/pixab.h)."""
    OK = 0
    ARG = 1
    IO = 2
    FORMAT = 3
    SHAPE = 4
    NOMEM = 5
    DEVICE = 6
    UNSUPPORTED = 7
    CANCELLED = 8


class Error(Exception):
    """A failure of pixab: str(e) is the one-line reason (the C library's own
    message when the library failed); e.status is the Status."""

    status = None

    def __init__(self, message, status=None):
        Exception.__init__(self, message)
        self.message = message
        if status is not None:
            self.status = Status(status)

    @property
    def status_name(self):
        """The library's short name of the status ("io error", ...)."""
        return lib.pixab_status_name(int(self.status)).decode()


class ArgumentError(Error, ValueError):
    """A bad argument: unknown name (layer, method, device, class), out-of-range value, wrong dtype."""
    status = Status.ARG


class FileError(Error, OSError):
    """A file cannot be opened, read, mapped or written."""
    status = Status.IO


class FormatError(Error, ValueError):
    """A malformed file: safetensors, ONNX, image."""
    status = Status.FORMAT


class ShapeError(Error, ValueError):
    """A tensor or array is missing or has the wrong shape."""
    status = Status.SHAPE


class OutOfMemoryError(Error, MemoryError):
    """An allocation failed or a size overflowed."""
    status = Status.NOMEM


class DeviceError(Error, RuntimeError):
    """No CUDA device, or a CUDA/cuDNN/cuBLAS failure."""
    status = Status.DEVICE


class UnsupportedError(Error):
    """A capability this build does not have (e.g. fp16 on the CPU)."""
    status = Status.UNSUPPORTED


class CancelledError(Error):
    """The work was cancelled (pixab_cancel); nothing partial is returned."""
    status = Status.CANCELLED


class EngineBusyError(Error, RuntimeError):
    """An engine was called from a second thread while a call was running on it."""
    status = Status.ARG


_BY_STATUS = {c.status: c for c in (ArgumentError, FileError, FormatError, ShapeError, OutOfMemoryError,
                                    DeviceError, UnsupportedError, CancelledError)}


def raise_for(status):
    """Raise the Error subclass of a non-zero status with this thread's reason;
    return None for PIXAB_OK."""
    if status:
        cls = _BY_STATUS.get(status, Error)
        raise cls(last_error() or lib.pixab_status_name(status).decode(), status)


def check_index(value):
    """A name-to-index lookup's result: -1 raises ArgumentError with the reason."""
    if value < 0:
        raise ArgumentError(last_error())
    return value
