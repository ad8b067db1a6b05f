"""Calibration profiles: few-shot corrections of a catalog GPU from your own measurements."""
from hwaware.calibration.profile import Profile, find_profile, fit_profile, profile_dir, save_profile

__all__ = ["Profile", "find_profile", "fit_profile", "profile_dir", "save_profile"]
