"""The stateful stream runtime on Faust: batching, the group commit, positions, state and timers.
The only place that imports Faust.
"""
