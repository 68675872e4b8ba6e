"""The side-by-side benchmark (issue 7): archdsl's compiled modules and checker against their references.

    python -m bench [--quick] [--device cuda] [--json out.json] [--only GROUP...] [--models NAME...]

See bench/README.md for what each row measures.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
