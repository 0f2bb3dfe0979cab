"""Build riskmap's bundled data (``data/``) from the public sources.

Aside from the analysis layers: no analysis module imports this package.
"""
