"""The economy simulator: a SimPy world of the Hanzo economy, its scenarios and reports."""
