"""Import first in every bench script: put the repository on sys.path and take bench/ off it.

Python puts a script's own folder first on sys.path, and bench/http.py (the name the HTTP
benchmark is known by) would then shadow the standard library's ``http`` package.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() not in (HERE, ROOT)]
