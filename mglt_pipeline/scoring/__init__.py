"""Questionnaire scoring (INSTRUMENTS.md): instrument specs as data, one scoring mechanism, summaries."""
from mglt_pipeline.scoring.instruments import INSTRUMENTS, ISI, LSEQ, POMS, RSQ, Instrument, Scale
from mglt_pipeline.scoring.score import score_instrument

__all__ = ["INSTRUMENTS", "ISI", "LSEQ", "POMS", "RSQ", "Instrument", "Scale", "score_instrument"]
