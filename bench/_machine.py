"""One line describing the machine a benchmark ran on, printed with every benchmark's figures."""

import os
import platform


def machine_line() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"machine: {cpu or 'unknown CPU'}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"
