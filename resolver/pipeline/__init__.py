"""The resolver's pipeline, one module a stage: read → columns → normalize (profiles) →
hash → prepare → identity → derive, run chunk by chunk by an engine (run.py) under a job
(job.py), counted into a report and written out (write.py)."""
