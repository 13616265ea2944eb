"""``python -m geo_risk``: the ``geo-risk`` command."""

from geo_risk.cli import entry

if __name__ == "__main__":
    entry()
