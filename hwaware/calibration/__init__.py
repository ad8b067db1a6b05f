"""Calibration profiles: few-shot corrections of a catalog GPU from your own measurements."""
from hwaware.calibration.profile import (FORMS, Breakdown, Profile, find_profile, fit_profile, list_profiles, profile_dir,
                                         save_profile)

__all__ = ["FORMS", "Breakdown", "Profile", "find_profile", "fit_profile", "list_profiles", "profile_dir", "save_profile"]
