"""mglt_pipeline: a Dagster pipeline for a randomized, placebo-controlled sleep trial."""
from setuptools import find_packages, setup

setup(
    name="mglt_pipeline",
    version="0.1.0",
    description=(
        "Raw Oura, REDCap and diary data of a sleep trial to validated tables, scored "
        "instruments and per-outcome treatment effects, as Dagster assets."
    ),
    packages=find_packages(exclude=["mglt_pipeline_tests*"]),
    package_data={"mglt_pipeline": ["report/templates/*.j2"]},
    python_requires=">=3.10",
    # Lower bounds are the versions known to install and work together (2026-12). Dagster is used
    # through its public API only (a test greps for ``dagster._``), so any 1.x from 1.13 on is allowed;
    # pip installs 1.13.27 with the pins below. The whole suite passes on 1.13.27 (make test) and on
    # 1.13.29, the newest dagster on this package index (2026-12-02: with dagster-webserver 1.13.28,
    # the newest published, and dagster-duckdb's exact pin overridden). The warehouse IO manager is
    # built on dagster's ConfigurableIOManager and opens DuckDB through dagster-duckdb's
    # DuckDBResource; each dagster-duckdb release pins one exact dagster (0.29.27 -> 1.13.27), so
    # pip installs the dagster that matches the newest dagster-duckdb.
    install_requires=[
        "dagster>=1.13,<2",
        "dagster-webserver>=1.13,<2",
        "dagster-duckdb>=0.29,<1",
        "duckdb>=1.1",
        "pandas>=2.3,<3",
        "numpy>=1.26",
        "scipy>=1.13",
        "pandera>=0.35,<0.36",
        "great-expectations>=1.24,<2",
        "statsmodels>=0.15",
        "formulaic>=1.1",
        "threadpoolctl>=3.1",
        "matplotlib>=3.9",
        "jinja2>=3.1",
        "great-tables>=1.0",
        # the submission room: SAS transport files, RTF tables, the Define-XML 2.1 schema and its validator
        "pyreadstat>=1.2",
        "rtflite>=2.0,<3",
        "polars>=1.0",
        "odmlib>=0.2",
        "lxml>=5.0",
    ],
    extras_require={"dev": ["pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6.100"]},
    entry_points={
        "console_scripts": [
            "mglt-simulate=mglt_pipeline.simulate.__main__:main",
            "mglt-run=mglt_pipeline.run:main",
        ]
    },
)
