"""The adversarial baseline: GAN losses, the SRGAN-style critic, and its place in the training loop
(critic updates, checkpoints, bit-identical resumption, DDP)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dsdviz.losses import critic_loss, generator_loss
from dsdviz.models import Discriminator
from dsdviz.training import TrainConfig, Trainer, history_table
from test_training import _free_port, state, tiny

LOG2 = math.log(2)


def test_gan_losses_at_chance_and_by_hand():
    zero = torch.zeros(4)
    assert float(critic_loss("standard", zero, zero)) == pytest.approx(2 * LOG2)
    assert float(generator_loss("standard", zero, zero)) == pytest.approx(LOG2)
    assert float(critic_loss("relativistic", zero, zero)) == pytest.approx(LOG2)
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    softplus = F.softplus
    # standard: BCE(r, 1) + BCE(f, 0) = mean softplus(-r) + mean softplus(f)
    expected = softplus(-real).mean() + softplus(fake).mean()
    torch.testing.assert_close(critic_loss("standard", real, fake), expected)
    # relativistic: r' = r - mean f = [2, 0], f' = f - mean r = [-2, 0]
    expected = (softplus(-(real - fake.mean())).mean() + softplus(fake - real.mean()).mean()) / 2
    torch.testing.assert_close(critic_loss("relativistic", real, fake), expected)
    expected = (softplus(real - fake.mean()).mean() + softplus(-(fake - real.mean())).mean()) / 2
    torch.testing.assert_close(generator_loss("relativistic", real, fake), expected)


@pytest.mark.parametrize("kind", ["standard", "relativistic"])
def test_the_generator_term_falls_as_fakes_look_real_and_sends_no_gradient_to_the_real_logits(kind):
    real = torch.tensor([1.0, 2.0], requires_grad=True)
    low, high = torch.tensor([-3.0, -2.0]), torch.tensor([3.0, 4.0])
    assert float(generator_loss(kind, real, high)) < float(generator_loss(kind, real, low))
    assert float(critic_loss(kind, real, high)) > float(critic_loss(kind, real, low))
    fake = low.clone().requires_grad_(True)
    generator_loss(kind, real, fake).backward()
    assert real.grad is None and fake.grad is not None and (fake.grad < 0).all()


def test_gan_losses_refuse_bad_input():
    with pytest.raises(ValueError, match="kind"):
        critic_loss("wasserstein", torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(B,\)"):
        generator_loss("standard", torch.zeros(2, 1), torch.zeros(2))


def test_discriminator_shapes_and_errors():
    critic = Discriminator(channels=4)
    assert critic(torch.rand(3, 3, 16, 24)).shape == (3,)
    assert critic(torch.rand(1, 3, 96, 96)).shape == (1,)  # SRGAN's crop; the pooled head takes any size
    assert sum(p.numel() for p in Discriminator().parameters()) == 5_213_569  # SRGAN-style, 64 channels
    with pytest.raises(ValueError, match="at least 16 px"):
        critic(torch.rand(1, 3, 8, 64))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        critic(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="channels"):
        Discriminator(channels=0)


def test_adversarial_settings_are_checked(folder, tmp_path):  # noqa: F811
    with pytest.raises(ValueError, match="adversarial"):
        tiny("sr", tmp_path, folder, stage="dsd", adversarial="wgan")
    with pytest.raises(ValueError, match="adversarial_weight"):
        tiny("sr", tmp_path, folder, stage="dsd", adversarial="standard", adversarial_weight=-1e-3)
    assert Trainer(tiny("sr", tmp_path / "a", folder, adversarial="standard")).task.adversary is None  # psnr stage


def test_a_step_updates_the_critic_and_logs_both_terms(vgg_weights, folder, tmp_path):  # noqa: F811
    trainer = Trainer(tiny("sr", tmp_path, folder, stage="dsd", adversarial="standard", adversarial_weight=0.5))
    critic = trainer.task.adversary.critic
    before = {k: v.clone() for k, v in critic.state_dict().items()}
    batch = next(iter(trainer._loader()))
    terms = trainer.train_step(batch)
    assert set(terms) == {"l1", "perceptual", "dsd", "adversarial", "critic", "loss"}
    plain = float(terms["l1"] + terms["perceptual"] + 100 * terms["dsd"])
    assert float(terms["loss"]) == pytest.approx(plain + 0.5 * float(terms["adversarial"]), rel=1e-5)
    assert not torch.equal(critic.state_dict()["features.0.weight"], before["features.0.weight"])
    # the critic's own optimiser and schedule: one step each
    assert trainer.task.adversary.scheduler.last_epoch == 1 and trainer.scheduler.last_epoch == 1


def test_the_critic_does_not_change_the_generators_other_random_streams(vgg_weights, folder, tmp_path):  # noqa: F811
    plain = Trainer(tiny("sr", tmp_path / "plain", folder, stage="dsd"))
    gan = Trainer(tiny("sr", tmp_path / "gan", folder, stage="dsd", adversarial="standard"))
    for name, value in state(plain).items():  # same initial network (the critic has its own seed)
        assert torch.equal(value, state(gan)[name]), name
    assert torch.equal(next(iter(plain._loader()))["target"], next(iter(gan._loader()))["target"])


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_interrupted_and_resumed_adversarial_run_is_bit_identical(vgg_weights, folder, tmp_path):  # noqa: F811
    settings = {"stage": "dsd", "adversarial": "relativistic"}  # the standard loss: the same code path
    whole = Trainer(tiny("sr", tmp_path / "whole", folder, **settings))
    whole.run()
    config = tiny("sr", tmp_path / "parts", folder, **settings)
    Trainer(config).run(until=3)
    checkpoint = torch.load(tmp_path / "parts" / "checkpoint.pt", weights_only=True)
    assert set(checkpoint["task_state"]["adversary"]) == {"critic", "optimizer", "scheduler", "scaler"}
    resumed = Trainer(config, resume=True)
    resumed.run()
    for name, value in state(whole).items():
        assert torch.equal(value, state(resumed)[name]), name
    for name, value in whole.task.adversary.critic.state_dict().items():
        assert torch.equal(value, resumed.task.adversary.critic.state_dict()[name]), name
    assert history_table(resumed.history)["critic"].tolist() == history_table(whole.history)["critic"].tolist()


def test_resuming_refuses_other_adversarial_settings(vgg_weights, folder, tmp_path):  # noqa: F811
    config = tiny("sr", tmp_path, folder, stage="dsd", adversarial="standard")
    Trainer(config).run(until=1)
    with pytest.raises(ValueError, match="adversarial_weight"):
        Trainer(tiny("sr", tmp_path, folder, stage="dsd", adversarial="standard", adversarial_weight=0.1), resume=True)


def _ddp_step(rank: int, world: int, port: int, config: dict, out: str) -> None:
    """One adversarial training step as rank ``rank`` of ``world`` gloo processes; saves every gradient."""
    import os

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    trainer = Trainer(TrainConfig.from_flat(**config))
    trainer.train_step(next(iter(trainer._loader())))
    grads = {f"g.{n}": p.grad for n, p in trainer.network.named_parameters()}
    grads.update({f"d.{n}": p.grad for n, p in trainer.task.adversary.critic.named_parameters()})
    torch.save(grads, Path(out) / f"grads{rank}.pt")
    trainer.close()


@pytest.mark.slow
def test_ddp_averages_the_generator_and_critic_gradients_of_the_two_halves(
    vgg_weights, folder, tmp_path, monkeypatch  # noqa: F811
):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    config = tiny("sr", tmp_path / "run", folder, stage="dsd", adversarial="standard", checkpoint_every=100)
    torch.multiprocessing.spawn(_ddp_step, args=(2, _free_port(), config.flat(), str(tmp_path)), nprocs=2)
    ranks = [torch.load(tmp_path / f"grads{r}.pt", weights_only=True) for r in range(2)]
    # each process takes its half of the global batch; BatchNorm statistics stay per process on CPU, so the
    # reference is the mean of two single-process steps on the halves
    batch = next(iter(Trainer(config)._loader()))
    halves = []
    for k in range(2):
        single = Trainer(tiny("sr", tmp_path / f"half{k}", folder, stage="dsd", adversarial="standard"))
        single.train_step({key: value[2 * k : 2 * k + 2] for key, value in batch.items()})
        grads = {f"g.{n}": p.grad for n, p in single.network.named_parameters()}
        grads.update({f"d.{n}": p.grad for n, p in single.task.adversary.critic.named_parameters()})
        halves.append(grads)
    for name, grad in ranks[0].items():
        torch.testing.assert_close(grad, ranks[1][name], rtol=0, atol=0)
        mean = (halves[0][name] + halves[1][name]) / 2
        torch.testing.assert_close(grad, mean, rtol=1e-4, atol=1e-4 * float(mean.abs().max()) + 1e-12)
