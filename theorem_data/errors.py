"""The one error a data file can raise: it names the file, the line and what is wrong there."""


class DataFileError(ValueError):
    def __init__(self, message: str, *, line: int | None = None, path: str = "") -> None:
        self.message = message
        self.line = line
        self.path = path
        where = f"{path or 'input'}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {message}")
