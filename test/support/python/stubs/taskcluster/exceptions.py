class TaskclusterRestFailure(Exception):
    pass
