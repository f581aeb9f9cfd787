"""Use cases: the fleet of one repository and everything done to it."""
