"""Names of the files a training run writes into its output folder, spelled once."""

TRAINING_RECORD = "hf_hybrid_training.json"  # what the card generator, evaluate and push read; written last
RUN_MARKER = "hf_hybrid_run.json"  # claims the folder for one run (its fingerprint), written before training
CHECKPOINT_COMPLETE = "hf_hybrid_checkpoint.json"  # written into checkpoint-N once every process has saved it
