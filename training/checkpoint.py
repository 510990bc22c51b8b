"""Training checkpoints without pickles: tensors in safetensors, everything else in JSON.

`last.safetensors` holds the model, its EMA, the optimizer's moment tensors and the
random generators' states; `last.json` holds the epoch, the history, the optimizer's
hyper-parameters and the schedule's position. Both are written atomically.
"""
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def _flat_tensors(model, ema, optimizer, gen):
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    if ema is not None:
        tensors.update({f"ema.{k}": v for k, v in ema.module.state_dict().items()})
    scalars = {}
    for pid, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = value
            else:
                scalars[f"{pid}.{key}"] = value
    tensors["rng.generator"] = gen.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, scalars


def save(folder: Path, model, ema, optimizer, scheduler, gen, meta: dict) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors, optim_scalars = _flat_tensors(model, ema, optimizer, gen)
    save_file(tensors, folder / "last.safetensors.tmp")
    (folder / "last.safetensors.tmp").replace(folder / "last.safetensors")
    state = dict(meta, optimizer_param_groups=optimizer.state_dict()["param_groups"],
                 optimizer_scalars=optim_scalars, scheduler=scheduler.state_dict())
    (folder / "last.json.tmp").write_text(json.dumps(state, indent=1, default=str))
    (folder / "last.json.tmp").replace(folder / "last.json")


def load(folder: Path, model, ema, optimizer, scheduler, gen) -> dict:
    folder = Path(folder)
    if not (folder / "last.safetensors").exists():
        raise SystemExit(f"--resume: no checkpoint in {folder}")
    tensors = load_file(folder / "last.safetensors")
    state = json.loads((folder / "last.json").read_text())

    def section(prefix):
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    model.load_state_dict(section("model."))
    if ema is not None:
        ema.module.load_state_dict(section("ema."))
    optim_state = {}
    for key, value in section("optim.").items():
        pid, name = key.split(".", 1)
        optim_state.setdefault(int(pid), {})[name] = value
    for key, value in state["optimizer_scalars"].items():
        pid, name = key.split(".", 1)
        optim_state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": optim_state, "param_groups": state["optimizer_param_groups"]})
    scheduler.load_state_dict(state["scheduler"])
    gen.set_state(tensors["rng.generator"])
    torch.set_rng_state(tensors["rng.torch"])
    return state
