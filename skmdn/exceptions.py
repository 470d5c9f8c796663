"""Exceptions raised by skmdn."""

__all__ = ["ModelFileError"]


class ModelFileError(ValueError):
    """A file given to ``skmdn.load`` is not a readable, well-formed skmdn model.

    Raised for every kind of bad file: not a zip archive, damaged (bad CRC,
    truncated), missing parts, invalid JSON, unknown or ill-typed fields,
    arrays whose shapes or types disagree with the saved network, parts larger
    than the network they describe could need, or a network of other layers
    than skmdn writes. The message names the file and the problem. A file
    written by a newer skmdn is refused with this error too, saying so.

    A subclass of ``ValueError``, so ``except ValueError`` also catches it.

    Examples
    --------
    >>> import skmdn
    >>> from skmdn.exceptions import ModelFileError
    >>> issubclass(ModelFileError, ValueError)
    True
    """
