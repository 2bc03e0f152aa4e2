"""The inbox's writes, by concept: `recording` stores what Meta reports."""
