"""simulate room: a simulated trial in the raw formats of DATA_CONTRACT.md, with its planted truth."""
from .faults import plant_faults
from .trial import simulate_trial

__all__ = ["plant_faults", "simulate_trial"]
