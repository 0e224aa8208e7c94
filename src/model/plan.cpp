// The planner: every activation placed in one arena per context by
// lifetime (greedy first fit, 64-byte aligned); the input, the outputs and
// the CAM feature map stay to the end, and with keep_all_tensors nothing is
// reused.
#include "model/model.h"

namespace fer_rt {

bool plan_arena(fer_model * m, std::string * error) {
    struct block {
        size_t off, size;
        int tensor;
    };
    std::vector<block> live;
    size_t top = 0;
    auto place = [&](int t) {
        rt_tensor & x = m->tensors[static_cast<size_t>(t)];
        const size_t size = (x.bytes + 63) / 64 * 64;
        size_t off = 0;
        bool moved = true;
        while (moved) {
            moved = false;
            for (const block & b : live) {
                if (off < b.off + b.size && b.off < off + size) {
                    off = b.off + b.size;
                    moved = true;
                }
            }
        }
        live.push_back({off, size, t});
        x.arena_off = off;
        x.in_arena = true;
        top = off + size > top ? off + size : top;
    };
    auto release_after = [&](int op_index) {
        for (size_t i = 0; i < live.size();) {
            const rt_tensor & x = m->tensor(live[i].tensor);
            if (!x.pinned && !m->keep_all && x.last_use <= op_index) {
                live.erase(live.begin() + static_cast<long>(i));
            } else {
                ++i;
            }
        }
    };
    m->tensors[static_cast<size_t>(m->input)].pinned = true;  // the caller's face stays readable
    place(m->input);
    for (size_t i = 0; i < m->ops.size(); ++i) {
        place(m->ops[i].out);
        release_after(static_cast<int>(i));
        if (top > k_max_arena) {
            *error = "graph: activations need more than " + std::to_string(k_max_arena) + " bytes";
            return false;
        }
    }
    m->arena_bytes = top;
    return true;
}

}  // namespace fer_rt
