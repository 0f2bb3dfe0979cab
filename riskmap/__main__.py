"""``python -m riskmap`` runs the command line."""

from riskmap.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
