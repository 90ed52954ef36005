"""KServe payload-logger ingestion: the CloudEvents KServe's agent posts, paired and landed as
inference records."""
