"""The shared kernel: records, errors, dead letters, metrics and the pure helpers every domain
uses. Imports nothing else of the project.
"""
