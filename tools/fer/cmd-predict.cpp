// fer predict: every face of every picture, on the runtime (fer-pipeline.h):
// Haar detection, FER2013-like crop, TFLite classification. Pictures are
// spread over --threads workers (one fer_context each) and reported in input
// order.
#include "args.h"
#include "cli-common.h"
#include "commands.h"
#include "error.h"
#include "face-draw.h"
#include "face-json.h"
#include "image-load.h"
#include "plots.h"
#include "progress.h"
#include "shard.h"

#include "fer-pipeline.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace fer {

namespace {

enum class output_format { table, json, jsonl, csv };

struct predict_job {
    std::vector<const fer_model *> models;  // --model, then the ensemble's other members
    const fer_detector * det = nullptr;
    fer_pipeline_params params{};
    bool whole = false;
    std::string out_dir;
    bool cam = false;
};

struct picture_result {
    bool done = false;
    std::string error;  // empty when the picture was read
    int width = 0, height = 0;
    std::vector<fer_face> faces;
};

// A picture taken as one FER2013-style face crop: resized to 48x48 with area
// averaging, as the training data was.
int classify_whole(const std::vector<fer_context *> & members, const loaded_image & img, const fer_pipeline_params & p,
                   fer_face * f) {
    fer_context * ctx = members[0];
    cv::Mat face;
    cv::resize(img.grey, face, cv::Size(FER_INPUT_SIZE, FER_INPUT_SIZE), 0, 0, cv::INTER_AREA);
    *f = fer_face();
    f->box = {0, 0, img.width, img.height, 0};
    f->crop_size = std::max(img.width, img.height);
    const int st = fer_classify_ensemble(members.data(), static_cast<int32_t>(members.size()), face.data,
                                         static_cast<int>(face.step), p.tta, &f->result);
    f->uncertain = f->result.confidence < p.min_confidence;
    f->track_id = -1;
    std::copy(f->result.probabilities, f->result.probabilities + FER_N_CLASSES, f->smoothed);
    f->smoothed_class = f->result.top_class;
    if (st == FER_OK && p.cam) {
        int h = 0, w = 0;
        if (fer_model_has_cam(fer_context_model(ctx), &h, &w) && h * w <= FER_FACE_CAM_MAX &&
            fer_context_cam(ctx, f->result.top_class, f->cam, FER_FACE_CAM_MAX) == FER_OK) {
            f->cam_h = h;
            f->cam_w = w;
        }
    }
    return st;
}

std::string annotated_path(const std::string & out_dir, const std::string & file, size_t index) {
    // The index keeps same-named pictures of different folders apart.
    char prefix[24];  // 20 digits of a size_t, '-', NUL
    std::snprintf(prefix, sizeof prefix, "%04zu-", index);
    return (std::filesystem::path(out_dir) / (prefix + std::filesystem::path(file).stem().string() + ".png")).string();
}

void process(const predict_job & job, const std::vector<fer_context *> & members, const std::string & file,
             size_t index, picture_result & r) {
    loaded_image img;
    // --from lists are not checked up front: a FIFO among them must not block here.
    if (!check_regular_file(file, &r.error) || !load_image_file(file, &img, &r.error)) {
        return;
    }
    r.width = img.width;
    r.height = img.height;
    int st = FER_OK;
    if (job.whole) {
        r.faces.resize(1);
        st = classify_whole(members, img, job.params, &r.faces[0]);
    } else {
        // Room for the usual case; a crowd costs a second call with the exact count.
        r.faces.resize(64);
        int32_t n = 0;
        fer_detect_status ds = FER_DETECT_OK;
        for (int pass = 0; pass < 2; ++pass) {
            st = fer_analyze_image_ensemble(members.data(), static_cast<int32_t>(members.size()), job.det, img.bgr.data, img.width, img.height, static_cast<int32_t>(img.bgr.step),
                                   FER_PIXEL_BGR, &job.params, r.faces.data(), static_cast<int32_t>(r.faces.size()),
                                   &n, &ds);
            if (st != FER_OK || n <= static_cast<int32_t>(r.faces.size())) {
                break;
            }
            r.faces.resize(static_cast<size_t>(n));
        }
        if (st != FER_OK && ds != FER_DETECT_OK) {
            r.error = std::string("face detection failed: ") + fer_detect_status_name(ds);
            return;
        }
        r.faces.resize(st == FER_OK ? static_cast<size_t>(n) : 0);
    }
    if (st != FER_OK) {
        r.error = std::string("classification failed: ") + fer_status_string(st);
        return;
    }
    if (!job.out_dir.empty()) {
        cv::Mat canvas = img.bgr.clone();
        draw_faces(canvas, r.faces, job.cam);
        write_png(annotated_path(job.out_dir, file, index), canvas);
    }
}

std::string table_rows(const std::string & file, const picture_result & r) {
    char line[512];
    if (r.faces.empty()) {
        std::snprintf(line, sizeof line, "%-40s %9s %-20s %-9s %s\n", file.c_str(),
                      (std::to_string(r.width) + "x" + std::to_string(r.height)).c_str(), "no face", "", "");
        return line;
    }
    std::string s;
    for (size_t i = 0; i < r.faces.size(); ++i) {
        const fer_face & f = r.faces[i];
        const std::string box = std::to_string(f.box.x) + "," + std::to_string(f.box.y) + " " +
                                std::to_string(f.box.width) + "x" + std::to_string(f.box.height);
        std::string label = face_label(f);
        if (f.uncertain) {
            label += std::string(" (") + fer_class_name(f.result.top_class) + ")";
        }
        std::snprintf(line, sizeof line, "%-40s %9s %-20s %-20s %5.1f%%\n", i ? "" : file.c_str(),
                      i ? "" : (std::to_string(r.width) + "x" + std::to_string(r.height)).c_str(), box.c_str(),
                      label.c_str(), 100.0 * f.result.confidence);
        s += line;
    }
    return s;
}

output_format parse_format(const arg_parser & a) {
    const int n = a.enabled("json") + a.enabled("jsonl") + a.enabled("csv");
    if (n > 1) {
        throw usage_error("predict: choose one of --json, --jsonl, --csv");
    }
    return a.enabled("json") ? output_format::json
           : a.enabled("jsonl") ? output_format::jsonl
           : a.enabled("csv")   ? output_format::csv
                                : output_format::table;
}

long long int_in(const arg_parser & a, const char * name, long long lo, long long hi) {
    const long long v = a.get_int(name);
    if (v < lo || v > hi) {
        throw usage_error(std::string("predict: --") + name + " must be in " + std::to_string(lo) + ".." +
                          std::to_string(hi));
    }
    return v;
}

}  // namespace

int cmd_predict(int argc, char ** argv) {
    arg_parser a("predict", "[OPTIONS] IMAGE|DIR ...",
                 "Find every face in photos and classify the emotion of each (Haar face detector,\n"
                 "FER2013-like crop, TFLite model, all in fer's runtime). Folders are searched\n"
                 "recursively; EXIF orientation is applied. Unreadable images (and pictures above\n"
                 "100 megapixels, refused from their header) are reported by name and skipped; the\n"
                 "exit code is 2 when any failed. --whole takes each image as one face crop\n"
                 "(FER2013-style 48x48 faces such as samples/*.jpg), without detection.");
    a.positional("IMAGE|DIR", "images or folders of them", true);
    a.option("model", "FILE", "TFLite model (default: the shipped models/fernet-int8.tflite, or $FER_TFLITE_MODEL)");
    a.option("detector", "NAME|FILE", "yunet (default: CNN with landmarks), haar (OpenCV's frontalface_alt2), or a file: YuNet .tflite, Haar cascade XML or FERHAAR1 ($FER_DETECTOR)");
    a.flag("json", "print one JSON array, one object per image");
    a.flag("jsonl", "print one JSON object per image and line, as each finishes");
    a.flag("csv", "print CSV, one row per face");
    a.option("out", "DIR", "write annotated images there (box, label, confidence)");
    a.flag("cam", "with --out: overlay each face's class activation map");
    a.option("min-face", "PX", "smallest face side in pixels (0: YuNet from about 1/20 of the long side, Haar its 24 px window; YuNet finds small faces in large photos by a proposal pass and tiles)", "0");
    a.option("max-faces", "N", "classify at most N faces per image, largest first (0: all)", "0");
    a.option("min-confidence", "P", "faces below this confidence are reported as uncertain", "0");
    add_quality_options(a);
    a.option("ensemble", "FILES", "comma-separated .tflite classifiers run beside --model on every face; the mean\n"
                                  "of all their probabilities decides (cost: one classification per model)");
    a.option("threads", "N", "images processed in parallel", "1");
    a.flag("whole", "each image is one face crop: no detection");
    add_shard_options(a);
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (a.positionals().empty() && !a.has("from")) {
        throw usage_error("predict: no input images (see fer predict --help)");
    }
    const output_format format = parse_format(a);
    predict_job job;
    job.params = fer_pipeline_default_params();
    job.params.detect.min_size = static_cast<int32_t>(int_in(a, "min-face", 0, 100000));
    job.params.max_faces = static_cast<int32_t>(int_in(a, "max-faces", 0, 100000));
    const double min_conf = a.get_double("min-confidence");
    if (!(min_conf >= 0 && min_conf <= 1)) {
        throw usage_error("predict: --min-confidence must be in 0..1");
    }
    job.params.min_confidence = static_cast<float>(min_conf);
    job.params.tta = parse_tta_quality(a, "predict");
    const int threads = static_cast<int>(int_in(a, "threads", 1, 256));
    job.whole = a.enabled("whole");
    job.out_dir = a.get("out");
    job.cam = a.enabled("cam");
    if (job.cam && job.out_dir.empty()) {
        throw usage_error("predict: --cam draws on the annotated images: give --out DIR");
    }
    job.params.cam = job.cam ? 1 : 0;
    if (!job.out_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(job.out_dir, ec);
        if (ec) {
            throw input_error(job.out_dir + ": cannot create the output folder (" + ec.message() + ")");
        }
    }

    const std::string model_path = a.has("model") ? a.get("model") : default_tflite_model_path();
    std::vector<runtime_model> models;
    models.push_back(load_runtime_model(model_path));
    std::vector<std::string> members = split_list(a.get("ensemble"));
    if (parse_quality_best(a, "predict")) {
        for (const std::string & f : best_mode_members()) {
            members.push_back(f);
        }
    }
    if (members.size() + 1 > FER_ENSEMBLE_MAX) {
        throw usage_error("predict: at most " + std::to_string(FER_ENSEMBLE_MAX) + " models in an ensemble");
    }
    for (const std::string & f : members) {
        models.push_back(load_runtime_model(f));
    }
    for (const runtime_model & m : models) {
        job.models.push_back(m.get());
    }
    face_detector det;
    if (!job.whole) {
        det = load_face_detector(resolve_detector_path(a.has("detector") ? a.get("detector") : ""));
        job.det = det.get();
    }

    std::vector<std::string> files = list_images(a.positionals());
    if (a.has("from")) {
        const std::vector<std::string> listed = read_input_list(a.get("from"));
        files.insert(files.end(), listed.begin(), listed.end());
    }
    if (a.has("shard")) {
        if (format != output_format::jsonl && format != output_format::csv) {
            throw usage_error("predict: --shard writes --jsonl or --csv (fer merge joins them)");
        }
        // Everything that changes the output: shards of one run must agree on it.
        std::string fingerprint = model_path + "\n" + (job.whole ? "whole" : a.get("detector")) + "\n";
        for (const char * o : {"min-face", "max-faces", "min-confidence", "tta", "quality", "ensemble", "out"}) {
            fingerprint += std::string(o) + "=" + a.get(o) + "\n";
        }
        fingerprint += job.cam ? "cam\n" : "";
        fingerprint += "members=" + std::to_string(job.models.size()) + "\n";  // with the shipped ensemble
        shard_job sj = shard_job_from(a, "predict", format == output_format::csv ? "csv" : "jsonl",
                                      format == output_format::csv ? face_csv_header() : "", fingerprint, threads);
        std::vector<ensemble_contexts> contexts;
        for (int t = 0; t < threads; ++t) {
            contexts.emplace_back(job.models);
            if (!contexts.back().ok) {
                throw runtime_error("cannot allocate the model's memory");
            }
        }
        return run_shard(sj, files, [&](int worker, size_t index, const std::string & file) {
            picture_result r;
            process(job, contexts[static_cast<size_t>(worker)].members, file, index, r);
            shard_item_result out;
            out.ok = r.error.empty();
            out.text = !out.ok ? r.error
                       : format == output_format::csv ? faces_to_csv(file, r.width, r.height, r.faces)
                                                      : faces_to_json(file, r.width, r.height, r.faces) + "\n";
            return out;
        });
    }
    if (a.has("shard-dir") || a.enabled("resume")) {
        throw usage_error("predict: --shard-dir and --resume go with --shard K/N");
    }
    std::vector<picture_result> results(files.size());
    std::mutex mu;
    std::condition_variable cv_done;
    std::atomic<size_t> next{0};
    std::atomic<bool> ctx_failed{false};
    auto worker = [&] {
        const ensemble_contexts ctx(job.models);
        for (size_t i; (i = next++) < files.size();) {
            picture_result r;
            if (!ctx.ok) {
                ctx_failed = true;
                r.error = "cannot allocate the model's memory";
            } else {
                try {
                    process(job, ctx.members, files[i], i, r);
                } catch (const std::exception & e) {  // e.g. the annotated image cannot be written
                    r.error = e.what();
                }
            }
            std::lock_guard<std::mutex> lock(mu);
            results[i] = std::move(r);
            results[i].done = true;
            cv_done.notify_all();
        }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads && t < static_cast<int>(files.size()); ++t) {
        pool.emplace_back(worker);
    }

    // Results come out in input order, each as soon as it and those before it are done.
    const bool show_progress = files.size() >= 100 || (files.size() > 1 && isatty(2));
    std::unique_ptr<progress_bar> bar(show_progress ? new progress_bar("predict", static_cast<int64_t>(files.size()))
                                                    : nullptr);
    if (format == output_format::json) {
        std::printf("[");
    } else if (format == output_format::csv) {
        std::fputs(face_csv_header().c_str(), stdout);
    } else if (format == output_format::table) {
        std::printf("%-40s %9s %-20s %-20s %s\n", "file", "size", "face (x,y wxh)", "emotion", "confidence");
    }
    size_t failed = 0, n_faces = 0, printed = 0;
    for (size_t i = 0; i < files.size(); ++i) {
        picture_result r;
        {
            std::unique_lock<std::mutex> lock(mu);
            cv_done.wait(lock, [&] { return results[i].done; });
            r = std::move(results[i]);
        }
        if (!r.error.empty()) {
            std::fprintf(stderr, "%serror: %s: %s\n", bar ? "\n" : "", terminal_safe(files[i]).c_str(),
                         terminal_safe(r.error).c_str());
            ++failed;
        } else {
            n_faces += r.faces.size();
            switch (format) {
            case output_format::json:
                std::printf("%s\n  %s", printed ? "," : "", faces_to_json(files[i], r.width, r.height, r.faces).c_str());
                break;
            case output_format::jsonl:
                std::printf("%s\n", faces_to_json(files[i], r.width, r.height, r.faces).c_str());
                break;
            case output_format::csv:
                std::fputs(faces_to_csv(files[i], r.width, r.height, r.faces).c_str(), stdout);
                break;
            case output_format::table:
                std::fputs(table_rows(files[i], r).c_str(), stdout);
                break;
            }
            ++printed;
            std::fflush(stdout);
        }
        if (bar) {
            bar->update(static_cast<int64_t>(i + 1));
        }
    }
    for (auto & t : pool) {
        t.join();
    }
    if (bar) {
        bar->finish(std::to_string(n_faces) + " faces");
    }
    if (format == output_format::json) {
        std::printf("%s]\n", printed ? "\n" : "");
    }
    if (ctx_failed) {
        std::fprintf(stderr, "error: cannot allocate the model's memory\n");
        return 3;
    }
    if (failed) {
        std::fprintf(stderr, "%zu of %zu images could not be read\n", failed, files.size());
        return 2;
    }
    return 0;
}

}  // namespace fer
