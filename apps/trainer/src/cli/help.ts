// Help texts, one per command. Each command lists the options it reads; any other option is refused.
import { PRESET_NAMES } from '../config/presets.js';
import { QUEUE_OPTION, WORKER_HELP } from '../queue/cli.js';

const RUN_OPTIONS = `Run options (every command that writes a run dir):
  --preset NAME          ${PRESET_NAMES.join(' | ')} (default: tiny)
  --config FILE.json     a config file (any subset of the keys, dotted structure)
  --run-dir DIR          where the run writes config.json, trainer_state.json, metrics.jsonl, checkpoints/ and
                         its outputs (default runs/<name>); locked while a process works in it
  --name NAME            run name for the default run dir
  --resume               continue the run in --run-dir exactly (data order, optimiser state, RNG); no other option
                         but learning rates (--base.train.lr=…, …) and --optim.max-grad-norm, e.g. after a stage diverged
  --allow-non-finite     use model, adapter or hypernetwork weights holding NaN/Inf (with a warning) instead of refusing them
  --backend NAME         auto | tensorflow | wasm | cpu (default auto; the backend in use is printed)
  --verbose              show TensorFlow's own start-up log lines (hidden by default; so is a TF_CPP_MIN_LOG_LEVEL you set)
  --seed N               seed of weights, data order and dropout
  --KEY=VALUE            a config key the command reads, dotted, e.g. --base.train.steps=200 (listed below)
  --help                 this text

Ctrl-C or SIGTERM: the current step finishes, a checkpoint is saved, exit 130 (143 for SIGTERM);
continue with --resume. A stage whose loss or gradient becomes NaN/Inf stops at once (exit 2) without writing
its output, and says how to resume with a lower learning rate. Exit code 2: a problem with the input or the
system (the message says what to do).`;

const TRAINING = `  --log-every N, --checkpoint-every N, --optim.{optimizer,weight-decay,max-grad-norm,schedule}`;
const DATA = `  --data embedded[:SUITE]|SNI_DIR|P3_DIR (eval: rank classification)|FILE.jsonl|.txt|DIR (pretrain: a text corpus)|NAME, --prompt.{num-pos,max-source-length,max-target-length,max-instances-per-task,max-eval-instances-per-task}`;

export const HELP: Record<string, string> = {
  main: `tagi — Task Adapters Generation from Instructions (TAGI) in TypeScript

Usage: tagi <command> [options]

Commands:
  demo       every stage below in one run dir, then the results table (the embedded task suite by default)
  experiment ablations | paper: TAGI's ablations (paper Table 4), or Tables 2 and 4 on Def and Def+2Pos, with CIs
  base       pretrain the small base T5 the demo uses when no --model is given
  teachers   stage 1: one LoRA teacher per task category + the instruction-concatenated multitask LoRA
  pretrain   stage 2: hypernetwork pretraining on text (a|b|c split)
  finetune   stage 3: hypernetwork finetuning — TAGI (CE + KD + alignment) and CE only (HINT-like)
  eval       evaluate a base model (+ a hypernetwork and/or a multitask adapter) on held-out tasks
  generate   turn an instruction into a peft LoRA adapter dir with a trained hypernetwork
  inspect    summarise a model dir, adapter dir, hypernet dir or run dir
  push       upload an adapter, a generated adapter or a hypernetwork to a Hugging Face Hub repo, with a model card
  worker     take 'teachers --queue' / 'eval --queue' jobs from a Redis queue (any number, any machine)

--adapter, --hypernet and --model take a directory or a Hub id ORG/NAME[@REVISION] (downloaded once into the HF
cache; HF_HUB_OFFLINE=1 reads the cache alone). --verbose (any command) shows TensorFlow's own log lines.

Run 'tagi <command> --help' for the options of a command.`,
  demo: `tagi demo — the whole TAGI pipeline in one run dir

Usage: tagi demo [--preset tiny|smoke] [--model HF_T5_DIR] [options]

Stages: (a) base-model pretraining when no --model is given (a small random T5 on a vocabulary pruned to
the suite), (b) LoRA teachers per category, (c) the instruction-concatenated multitask baseline,
(d) hypernetwork pretraining, (e) hypernetwork finetuning: TAGI (CE + KD + parameter alignment) and the
CE-only hypernetwork (HINT-like), (f) evaluation on held-out tasks. Writes results.json, results.md,
metrics.jsonl and curves.svg into the run dir.

Options: --model DIR, --base.*, --teachers.*, --multitask.*, --hypernet.*, --distill.*, --eval.*
${TRAINING}
${DATA}

${RUN_OPTIONS}`,
  experiment: `tagi experiment ablations|paper — the paper's tables, with CIs

Usage: tagi experiment ablations [--preset tiny|smoke] [--model HF_T5_DIR] [options]
       tagi experiment paper [--preset tiny|smoke] [--model HF_T5_DIR] [options]

ablations: the demo's shared stages (base, teachers, multitask), then for every hypernetwork seed: pretraining
and five finetunings from it — TAGI, w/o hypernet pretraining (fresh weights), w/o L_kl (λ1 = 0), w/o L_ins
(λ2 = 0), w/o fusion (fusion none) — and the evaluation of all of them on every setting, each ablation's
paired difference to TAGI with a task-level bootstrap 95% CI.

paper: Table 2 and Table 4 in one run. The shared stages, a second concatenated multitask model on "Def + 2
positive examples" prompts, then for every hypernetwork seed TAGI, the CE-only hypernetwork (HINT-like) and
the four ablations on Def, and TAGI and HINT-like on Def+2Pos; every method evaluated on its prompt setting,
with TAGI's controls (another task's instruction, an empty one) and the paired differences of both tables.

Both print their expected time before they start (they run longer than the demo) and write results.json,
results.md, predictions.jsonl, metrics.jsonl and curves.svg into the run dir.

Options: as tagi demo (--model DIR, --base.*, --teachers.*, --multitask.*, --hypernet.*, --distill.*, --eval.*)
${TRAINING}
${DATA}

${RUN_OPTIONS}`,
  base: `tagi base — pretrain the small base T5 (what the demo does without --model)

Usage: tagi base [--preset tiny|smoke] [options]

A random T5 (base.d-model, base.num-layers, ...) on a vocabulary pruned to the data, trained on span
corruption of the training tasks' texts plus input → output without instructions (base.objective), then
written as an HF dir: <run-dir>/base-model (pass it to the other commands as --model).

Options: --base.*
${TRAINING}
${DATA}

${RUN_OPTIONS}`,
  teachers: `tagi teachers — LoRA teachers by instance training (stage 1)

Usage: tagi teachers --model HF_T5_DIR [--teachers.group-by=category|task] [options]

Trains one LoRA per task category (on the instruction-concatenated prompts of its training instances) or
per task (on the instance inputs alone) → <run-dir>/teachers/<group>/, and the multitask LoRA on every
prompt → <run-dir>/multitask-adapter (KD teachers of stage 3). peft dirs. Teachers train in banks of
--teachers.bank-size (0: all at once), every example with its own group's LoRA: 128 task teachers cost one
run; each bank is one job on a queue.

Options: --model DIR (required), --teachers.{group-by,bank-size,rank,alpha,target-modules,train.*},
  --multitask.{rank,alpha,target-modules,train.*} (target modules: a comma list of names, or a JSON string regex)
${QUEUE_OPTION}
${TRAINING}
${DATA}

${RUN_OPTIONS}`,
  pretrain: `tagi pretrain — hypernetwork pretraining (stage 2)

Usage: tagi pretrain --model HF_T5_DIR [options]

Splits each training document into segments a|b|c (the hypernetwork reads a, the T5 reads b and predicts c;
lengths from hypernet.pretrain.segment-a/-b/-c) and trains with cross-entropy → <run-dir>/hypernet-pretrained.

Options: --model DIR (required), --hypernet.{rank,alpha,hidden-dim,fusion,pooling,target-modules}, --hypernet.pretrain.*
${TRAINING}
${DATA}

${RUN_OPTIONS}`,
  finetune: `tagi finetune — hypernetwork finetuning with distillation (stage 3)

Usage: tagi finetune --model HF_T5_DIR [--hypernet PRETRAINED_DIR] --adapter MULTITASK_DIR --teachers-dir DIR [options]

Trains from the pretrained weights (or fresh ones) TAGI, L = L_ce + λ1·T²·KL(teacher ‖ student) + λ2·L_ins
(distill.lambda-kl, distill.lambda-ins, distill.temperature; KD from the multitask model of --adapter and/or
each task's teacher of --teachers-dir, as distill.kl-teacher=multitask|teachers|both says; alignment with the
teachers of --teachers-dir), → <run-dir>/hypernet-tagi, and the CE-only hypernetwork → <run-dir>/hypernet-hint.
--adapter is needed when the multitask model is a KD teacher, --teachers-dir when the task teachers are, or λ2 > 0.

Options: --model DIR (required), --hypernet DIR, --adapter DIR, --teachers-dir DIR, --teachers.group-by,
  --hypernet.{rank,alpha,hidden-dim,fusion,pooling,target-modules}, --hypernet.finetune.*, --distill.*
${TRAINING}
${DATA}

${RUN_OPTIONS}`,
  eval: `tagi eval — evaluate on held-out tasks

Usage: tagi eval --model HF_T5_DIR [--hypernet DIR] [--adapter PEFT_DIR] [options]

ROUGE-L and exact match on the held-out tasks ("Def" with --prompt.num-pos=0, "Def+2Pos" with 2) of the
base model reading the full prompt, the multitask adapter (--adapter) and the hypernetwork (--hypernet, the
instance input alone), with measured relative cost. Prints a table and writes results.json / results.md.
SIGINT stops it at the next batch (exit 130); --resume runs the evaluation again.

Options: --model DIR (required), --hypernet DIR, --adapter DIR, --eval.{batch-size,num-beams}
${QUEUE_OPTION}
${DATA}

${RUN_OPTIONS}`,
  generate: `tagi generate — instruction → peft LoRA adapter

Usage: tagi generate --hypernet DIR --instruction "TEXT" --out ADAPTER_DIR [--model HF_T5_DIR] [--backend NAME] [--allow-non-finite]

Encodes the instruction once (formatted as training formats a task definition; over-long instructions are
cut with a warning, as in training), generates the LoRA weights and writes adapter_config.json +
adapter_model.safetensors (loadable by Python peft) into --out, which must not exist or be empty. The base
model is the one the hypernetwork was trained on (hypernet_config.json), or --model. No run dir is written.
--hypernet may be a Hub id ORG/NAME[@REVISION] ('tagi push' of a hypernetwork dir); its base model then comes
from the repo (base-model/) or the Hub model it names, unless --model is given.
Weights holding NaN/Inf are refused, naming the file and tensor; --allow-non-finite uses them with a warning.
--verbose shows TensorFlow's own start-up log lines.`,
  push: `tagi push — upload to a Hugging Face Hub model repo, with a model card

Usage: tagi push DIR --repo ORG/NAME [--revision BRANCH] [--private] [--license ID] [--message TEXT] [--base-model ORG/NAME]

DIR is a peft adapter dir (a teacher, the multitask adapter), a task-adapter export ('tagi generate', the
playground's export) or a hypernetwork dir (hypernet_config.json). Its files go up unchanged in one commit, with
a README.md model card: YAML metadata the Hub reads (base_model, library_name: peft for adapters, license,
tags, pipeline_tag, the instruction and the hypernetwork it came from), how to use it, and the evaluation table
of the run that made it when there is one (a DIR/README.md of your own is pushed instead of a card). A base model
that is not on the Hub (one 'tagi base' trained) goes along under base-model/, so a pulled hypernetwork generates
without --model; one that came from the Hub is named in base_model (or name it with --base-model).
The repo is created when it does not exist (--private: private). Pull it back by id: --adapter=ORG/NAME,
--hypernet=ORG/NAME[@REVISION].

The token comes from HF_TOKEN or the token file 'huggingface-cli login' writes ($HF_HOME/token) and is never
printed; HF_ENDPOINT selects another Hub.

Options:
  --repo ORG/NAME        the model repo (required)
  --revision BRANCH      the branch to commit to (default main)
  --private              create the repo private (an existing repo keeps its visibility)
  --license ID           the card's license (default apache-2.0, the licence of T5 and of this code)
  --message TEXT         the commit title
  --base-model ORG/NAME  the Hub model the base is (recorded in the card; the local base is then not uploaded)`,
  worker: WORKER_HELP,
  inspect: `tagi inspect — summarise a directory

Usage: tagi inspect PATH

PATH may be an HF T5 model dir, a peft adapter dir, a hypernet dir or a run dir (its stages and artefacts
from trainer_state.json).`,
};
