"""The submission room: CDISC ADaM datasets (XPT v5, Dataset-JSON v1.1), define.xml and RTF tables."""
