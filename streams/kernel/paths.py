"""Where the project's data lives: the one definition of the repository root and of the
folders beside the code (schemas, models)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]
SCHEMAS_DIR: Final = PROJECT_ROOT / "schemas"
#: trained model files
MODELS_DIR: Final = PROJECT_ROOT / "models"
#: training data and the intent taxonomy
MODEL_DATA_DIR: Final = SCHEMAS_DIR / "models"
