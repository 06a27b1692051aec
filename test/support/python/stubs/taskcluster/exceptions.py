class TaskclusterRestFailure(Exception):
    def __init__(self, msg="", superExc=None, res=None, status_code=500):
        super().__init__(msg)
        self.status_code = status_code
