"""Synthetic society: who exists, how they are related, and what they do.

For now this holds the sample generator behind ``make run``; the simulator issue adds the full
population model (households, occupations, friendship graph) here.
"""

from socialcredit.society.sample import SampleSociety, sample_society

__all__ = ["SampleSociety", "sample_society"]
