// Help texts, one per command.
import { PRESET_NAMES } from './presets.js';

const COMMON = `Common options:
  --preset NAME          ${PRESET_NAMES.join(' | ')} (default: tiny)
  --config FILE.json     a config file (any subset of the keys, dotted structure)
  --KEY=VALUE            override any config key, dotted, e.g. --base.train.steps=200 --distill.lambda-kl=0.5
  --backend NAME         auto | tensorflow | wasm | cpu (default auto; the backend in use is printed)
  --run-dir DIR          where the run writes config.json, metrics.jsonl, checkpoints, results (default runs/<name>)
  --resume               continue the run in --run-dir exactly (data order, optimiser state, RNG)
  --seed N               seed of weights, data order and dropout
  --help                 this text`;

export const HELP: Record<string, string> = {
  main: `tagi — Task Adapters Generation from Instructions (TAGI) in TypeScript

Usage: tagi <command> [options]

Commands:
  demo       run every stage end to end on the embedded task suite and print the results table
  pretrain   stage 2: hypernetwork pretraining on text (a|b|c split)
  teachers   stage 1: train one LoRA teacher per task category (peft dirs)
  finetune   stage 3: hypernetwork finetuning with distillation and parameter alignment
  eval       evaluate a base model (+ hypernet or adapter) on held-out tasks: ROUGE-L, exact match, cost
  generate   turn an instruction into a peft LoRA adapter dir with a trained hypernetwork
  inspect    summarise a model dir, adapter dir, hypernet dir or run dir

Run 'tagi <command> --help' for the options of a command.

${COMMON}`,
  demo: `tagi demo — the whole TAGI pipeline on the embedded task suite

Usage: tagi demo [--preset tiny|smoke] [--model HF_T5_DIR] [options]

Stages: (a) base-model pretraining when no --model is given (a small random T5 on a vocabulary pruned to
the suite), (b) LoRA teachers per category, (c) the instruction-concatenated multitask baseline,
(d) hypernetwork pretraining, (e) hypernetwork finetuning: TAGI (CE + KD + parameter alignment) and the
CE-only hypernetwork (HINT-like), (f) evaluation on held-out tasks. Writes results.json, results.md,
metrics.jsonl and curves.svg into the run dir.

${COMMON}`,
  pretrain: `tagi pretrain — hypernetwork pretraining (stage 2)

Usage: tagi pretrain --model HF_T5_DIR [--data embedded|FILE.jsonl|DIR] [options]

Splits each text into segments a|b|c (hypernet reads a, the T5 reads b and predicts c; lengths from
hypernet.pretrain.segment-a/-b/-c) and trains the hypernetwork with cross-entropy. Writes <run-dir>/hypernet.

${COMMON}`,
  teachers: `tagi teachers — LoRA teachers by instance training (stage 1)

Usage: tagi teachers --model HF_T5_DIR [--data embedded|SNI_DIR|NAME] [--teachers.group-by=category|task] [options]

Trains one LoRA per task category (or per task) on its training instances and writes one peft dir each
under <run-dir>/teachers/<name>.

${COMMON}`,
  finetune: `tagi finetune — hypernetwork finetuning with distillation (stage 3)

Usage: tagi finetune --model HF_T5_DIR [--hypernet PRETRAINED_DIR] [--teachers-dir DIR] [options]

L = L_ce + λ1·T²·KL(teacher ‖ student) + λ2·L_ins (distill.lambda-kl, distill.lambda-ins, distill.temperature).
--distill.lambda-kl=0 --distill.lambda-ins=0 gives the CE-only (HINT-like) hypernetwork.
Writes <run-dir>/hypernet.

${COMMON}`,
  eval: `tagi eval — evaluate on held-out tasks

Usage: tagi eval --model HF_T5_DIR [--hypernet DIR | --adapter PEFT_DIR] [--data embedded|SNI_DIR|P3_DIR] [options]

SNI-style data: ROUGE-L and exact match ("Def" with --prompt.num-pos=0, "Def+2Pos" with 2);
P3-style data: rank classification accuracy. Prints a table and writes results.json / results.md.

${COMMON}`,
  generate: `tagi generate — instruction → peft LoRA adapter

Usage: tagi generate --hypernet DIR --model HF_T5_DIR --instruction "TEXT" --out ADAPTER_DIR

Encodes the instruction once, generates the LoRA weights and writes adapter_config.json +
adapter_model.safetensors (loadable by Python peft).

${COMMON}`,
  inspect: `tagi inspect — summarise a directory

Usage: tagi inspect PATH

PATH may be an HF T5 model dir, a peft adapter dir, a hypernet dir or a run dir.`,
};
