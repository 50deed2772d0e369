//! The shop front. Built in the next issue (see README roadmap).
