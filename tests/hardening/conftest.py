"""The hardening suite (issue 9): hostile environments, each run with and without lastgasp."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crash"))
