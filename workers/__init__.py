"""RQ jobs, run by `rq worker --with-scheduler` (started by `supportline run`)."""
