"""Expert iteration: an Iteration is a job of jobs (train the policy, train EBMs, evaluate, search for the next
iteration's data, measure the embeddings), each step one of the other apps' jobs, resumable step by step. It is
the only app that uses both prover and training; they never use it."""
