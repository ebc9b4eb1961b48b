"""sbexport: bulk-export files from Seven Bridges Platform projects to cloud volumes."""

__version__ = "0.1.0"
