"""Model versions as a dimension of monitoring: the champion's history, which version's records a
window holds, and the reference each version is judged against."""
