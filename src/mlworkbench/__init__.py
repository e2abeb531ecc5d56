"""mlworkbench: parameterized notebooks run by Papermill, tracked in MLflow, reported as HTML."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlworkbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
