"""The bottom layer: settings, the domain's exception hierarchy and logging. Imports nothing else of kcrm."""
