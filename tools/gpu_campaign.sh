#!/usr/bin/env bash
# The full-setting (GPU) training campaign, one lease at a time: tools/gpu_campaign.sh RUNS MINUTES
#
# Trains every network of the paper with `dsdviz train --setting full` (the paper's crops, batch 16,
# losses and schedule; mixed precision on CUDA) for MINUTES of wall time, the chains side by side on one
# GPU (each is far too small to fill an H100/H200 alone):
#
#   sr      RUNS/sr_psnr -> RUNS/sr_dsd            xSRResNet x4, stage 1 (L1), then stage 2 (L1 + perceptual + DSD)
#   deblur  RUNS/deblur_psnr -> RUNS/deblur_dsd    xSRResNet deblurring, the same two stages
#   fig13   RUNS/fig13_psnr -> RUNS/fig13_{style,multiscale_style,dsd}   the 5-block network of Fig. 13
#   regressor  RUNS/regressor_a2, RUNS/regressor_a4   the DSD regressors psi_2, psi_4
#
# A chain of two stages gives stage 1 the share SPLIT (default 0.6) of the lease, then starts stage 2
# from stage 1's model.pt as it stands (`dsdviz train --minutes` exports the weights so far). Every run
# checkpoints into its folder and is resumed (--resume) by the next call with the same RUNS, so a
# campaign of 300k steps goes on lease after lease; a stage-2 run keeps its own progress and does not
# restart when stage 1 moves on. Each run's output goes to RUNS/<run>.out; the script fails if a run did.
# On a fresh machine RUNS must come along (the ten checkpoints hold about 100 MB), else the runs start
# over; `dsdviz train ... --init NAME` goes on from a shipped *_gpu network without its optimiser state.
#
# Environment: PYTHON (default python3), WORKERS (data workers per run, default 2), SPLIT, EXTRA (options
# added to every `dsdviz train`, e.g. "--device cpu --val-limit 1" for a dry run), and dsdviz's own
# DSDVIZ_VGG19_WEIGHTS and DSDVIZ_DATA.
set -uo pipefail
runs=${1:?usage: tools/gpu_campaign.sh RUNS MINUTES}
minutes=${2:?usage: tools/gpu_campaign.sh RUNS MINUTES}
python=${PYTHON:-python3}
workers=${WORKERS:-2}
split=${SPLIT:-0.6}
extra=${EXTRA:-}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$runs"
end=$(awk "BEGIN{print int($(date +%s) + $minutes * 60)}")

# Minutes left until the end of the lease, less a margin for loading, validating and exporting.
left() { awk "BEGIN{m = ($end - $(date +%s) - ${1:-30}) / 60; print (m > 0.1 ? m : 0.1)}"; }

run() {  # run NAME TASK MINUTES [options]: one `dsdviz train` of this campaign, logged to RUNS/NAME.out
    local name=$1 task=$2 budget=$3 status
    shift 3
    echo "$(date +%T) $name: $budget min"
    # shellcheck disable=SC2086  # EXTRA is a list of options
    "$python" -m dsdviz.cli train "$task" --setting full --out "$runs/$name" --resume --minutes "$budget" \
        --workers "$workers" --no-progress "$@" $extra >"$runs/$name.out" 2>&1
    status=$?
    echo "$(date +%T) $name: exit $status ($(tail -n 1 "$runs/$name.out"))"
    return $status
}

first() { awk "BEGIN{print $(left 60) * $split}"; }

chain() {  # chain NAME TASK [options]: stage 1, then stage 2 from it
    local name=$1 task=$2
    shift 2
    run "${name}_psnr" "$task" "$(first)" "$@" || return
    run "${name}_dsd" "$task" "$(left)" --stage dsd --init "$runs/${name}_psnr/model.pt" "$@"
}

fig13() {  # the 5-block network: one stage 1, then three stage-2 runs of equal wall time, one per feature loss
    run fig13_psnr sr "$(first)" --num-blocks 5 || return
    local budget loss _ failed=0
    budget=$(left)
    for loss in style multiscale_style dsd; do
        run "fig13_$loss" sr "$budget" --stage dsd --num-blocks 5 --init "$runs/fig13_psnr/model.pt" \
            --feature-loss "$loss" --perceptual-weight 0 --workers 1 &
    done
    for _ in 1 2 3; do wait -n || failed=1; done
    return $failed
}

echo "$(date +%T) campaign in $runs for $minutes min (python: $("$python" -c 'import torch; print(torch.__version__)'))"
chain sr sr &
chain deblur deblur --workers $(( workers * 2 )) &
fig13 &
run regressor_a2 regressor "$(left)" --alpha 2 --workers 1 &
run regressor_a4 regressor "$(left)" --alpha 4 --workers 1 &
failed=0
for _ in 1 2 3 4 5; do wait -n || failed=1; done
echo "$(date +%T) campaign done$([ $failed = 0 ] || echo ', with failures: see RUNS/*.out')"
exit $failed
