"""mglt_pipeline: raw data of a magnesium L-threonate sleep trial to treatment effects, as Dagster assets."""
