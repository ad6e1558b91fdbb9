"""A script that logs media as W&B users do (an image from an array, a table, a histogram, a
confusion matrix), saves a file with `wandb.save`, writes one into `wandb.run.dir` and logs
another as an artifact."""

import os
import tempfile

import numpy as np
import wandb

run = wandb.init()
for step in range(2):
    image = np.full((8, 8, 3), 40 * (step + 1), dtype=np.uint8)
    table = wandb.Table(columns=["step", "value"], data=[[step, step * 2.5]])
    wandb.log({"score": float(step), "sample": wandb.Image(image, caption="flat"),
               "rows": table, "weights": wandb.Histogram([0.1, 0.2, 0.2, step])})
with open(os.path.join(run.dir, "model.txt"), "w") as f:
    f.write(f"weights for x={wandb.config.x}\n")
notes = os.path.join(tempfile.mkdtemp(), "notes.txt")
with open(notes, "w") as f:
    f.write("saved with wandb.save\n")
wandb.save(notes)
wandb.log({"matrix": wandb.plot.confusion_matrix(y_true=[0, 1, 1], preds=[0, 1, 0])},
          commit=False)
artifact = wandb.Artifact("checkpoint", type="model")
artifact.add_file(notes)
run.log_artifact(artifact)
run.finish()
