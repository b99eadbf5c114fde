"""Pull room: fetch the trial's data from where a running trial keeps it, into ``raw/``.

- ``oura_api`` / ``oura_pull``: every participant's four analysed Oura collections from the Oura
  API v2 (``/v2/usercollection/<collection>``), with that participant's token, written as the
  contract's API files (one file per page) under ``raw/oura/<participant_id>/``;
- ``redcap_api``: the REDCap project's records (flat raw export) and data dictionary, written
  under ``raw/redcap/``;
- ``tokens``: the token file (never copied anywhere); ``http``: retries, back-off and rate limits;
  ``state``: the per-participant pull status (``oura_pull_status``) kept between pulls.

What lands in ``raw/`` is picked up by the pipeline's automation like any other new file.
"""

PULL_GROUP = "pull"
"""The asset group of the pulls; the trial's own jobs leave it out (a pull is its own run)."""
