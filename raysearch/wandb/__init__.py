"""The W&B on-ramp: a W&B sweep file whose `program` (and optional `command`) names the
training script runs that script, unchanged, as each trial (`raysearch.wandb.program`), with
an offline `wandb` stand-in (`raysearch/wandb/standin/wandb`) that sends its `wandb.log`
calls to Ray Tune. No W&B account, server or network."""
