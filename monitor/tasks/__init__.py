"""Where the scheduler's work executes: in the scheduler's process, or on task-engine workers."""
