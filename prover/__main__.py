"""`python -m prover search|eval|compare`: the search engine's command line (no Django is imported)."""

from prover.engine.cli import main

raise SystemExit(main())
