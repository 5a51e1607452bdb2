#!/usr/bin/env bash
# The equal-budget study of the stage-2 loss (dsdviz.experiments.equal_budget): tools/equal_budget.sh
#
# Trains the four stage-2 arms, then arm (c) with the other adversaries of GAN_VARIANTS (10 and 100 times
# SRGAN's weight, a relativistic critic), from the shipped stage 1
# (xsrresnet_sr_x4_psnr_cpu) with the cpu setting's crops, batch and rate, 250 steps each in float32,
# two at a time with one thread each (a 2-core CPU),
# resuming any run already under runs/equal_budget/, then ships each as a package model. The commands are
# the ones `dsdviz.experiments.equal_budget.arm_command` gives (a test checks that they agree).
# Then: dsdviz figures --only equal_budget adversarial_weight claims
set -euo pipefail
python=${PYTHON:-python3}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p runs/equal_budget
arm() {  # arm NAME COMMAND...: run one arm to the end, log to runs/equal_budget/NAME.out
    local name=$1; shift
    "$@" --resume --no-progress > "runs/equal_budget/$name.out" 2>&1
}
queue1() {
    arm l1_perceptual dsdviz train sr --setting cpu --stage dsd --precision fp32 --steps 250 --val-every 250 --monitor-every 50 --checkpoint-every 50 --feature-weight 0 --out runs/equal_budget/l1_perceptual
    arm dsd_gan dsdviz train sr --setting cpu --stage dsd --precision fp32 --steps 250 --val-every 250 --monitor-every 50 --checkpoint-every 50 --adversarial standard --out runs/equal_budget/dsd_gan
}
queue2() {
    arm dsd dsdviz train sr --setting cpu --stage dsd --precision fp32 --steps 250 --val-every 250 --monitor-every 50 --checkpoint-every 50 --out runs/equal_budget/dsd
    arm gan dsdviz train sr --setting cpu --stage dsd --precision fp32 --steps 250 --val-every 250 --monitor-every 50 --checkpoint-every 50 --feature-weight 0 --adversarial standard --out runs/equal_budget/gan
}
queue3() {  # arm (c) at 100 times SRGAN's weight (dsdviz figures --only adversarial_weight)
    arm gan_w1e-1 dsdviz train sr --setting cpu --stage dsd --precision fp32 --steps 250 --val-every 250 --monitor-every 50 --checkpoint-every 50 --feature-weight 0 --adversarial standard --adversarial-weight 1e-1 --out runs/equal_budget/gan_w1e-1
}
queue4() {  # arm (c) at 10 times SRGAN's weight
    arm gan_w1e-2 dsdviz train sr --setting cpu --stage dsd --precision fp32 --steps 250 --val-every 250 --monitor-every 50 --checkpoint-every 50 --feature-weight 0 --adversarial standard --adversarial-weight 1e-2 --out runs/equal_budget/gan_w1e-2
}
queue5() {  # arm (c) with ESRGAN's relativistic loss at 1e-1
    arm gan_rel_w1e-1 dsdviz train sr --setting cpu --stage dsd --precision fp32 --steps 250 --val-every 250 --monitor-every 50 --checkpoint-every 50 --feature-weight 0 --adversarial relativistic --adversarial-weight 1e-1 --out runs/equal_budget/gan_rel_w1e-1
}
queue1 & first=$!
queue2 & second=$!
wait $first && wait $second
queue3 & first=$!
queue4 & second=$!
wait $first && wait $second
queue5
for name in l1_perceptual dsd gan dsd_gan gan_w1e-1 gan_w1e-2 gan_rel_w1e-1; do
    "$python" tools/ship_model.py "runs/equal_budget/$name" "xsrresnet_sr_x4_eq_${name}_cpu" --hardware "2 CPU cores, one thread per run, two runs at a time"
done
