// Compute unit: LOAD of UOP/ACC, GEMM, ALU and FINISH, with the micro-op cache and the
// accumulator (two copies, so an ALU tensor-tensor op reads both operands in one cycle).
//
// GEMM/ALU run a three-stage pipeline at one (o, i, u) iteration per cycle:
//   S0  loop counters -> micro-op cache read
//   S1  indices d, s, w = micro-op + loop offsets (range checked) -> buffer reads
//   S2  block product or ALU op, written to acc[d] and out[d] (low 8 bits of each lane)
// A read issued in S1 misses only the write of the cycle before, so S2 takes that one write
// from a bypass register: back-to-back updates of one entry see each other without a stall.
// Tokens: pop_prev l2c, pop_next s2c before; push_prev c2l, push_next c2s after.
// Illegal: LOAD of OUT, a micro-op LOAD with padding, an unknown ALU op. Out of range: a
// window past its buffer, uop_end past the micro-op cache (even for an empty loop), an index
// past its buffer (src/wgt only where read: not under reset, not src with use_imm).
`default_nettype none

module tessera_compute (
    input  wire                     clk_i,
    input  wire                     rst_ni,
    input  wire                     clear_i,
    input  wire                     halt_i,
    input  wire [159:0]             cmd_i,
    input  wire                     cmd_empty_i,
    output wire                     cmd_pop_o,
    input  wire                     l2c_empty_i,
    output wire                     l2c_pop_o,
    input  wire                     s2c_empty_i,
    output wire                     s2c_pop_o,
    input  wire                     c2l_full_i,
    output wire                     c2l_push_o,
    input  wire                     c2s_full_i,
    output wire                     c2s_push_o,
    // DMA reader side (to the arbiter)
    output wire                     ar_valid_o,
    output wire [31:0]              ar_addr_o,
    output wire [7:0]               ar_len_o,
    input  wire                     ar_ready_i,
    input  wire                     r_valid_i,
    input  wire [BUS_BITS-1:0]      r_data_i,
    input  wire                     r_last_i,
    input  wire [1:0]               r_resp_i,
    output wire                     r_ready_o,
    output wire                     quiet_o,
    // input and weight buffer read ports, output buffer write port
    output wire                     inp_re_o,
    output wire [LOG_INP_DEPTH-1:0] inp_raddr_o,
    input  wire [INP_BITS-1:0]      inp_rdata_i,
    output wire                     wgt_re_o,
    output wire [LOG_WGT_DEPTH-1:0] wgt_raddr_o,
    input  wire [WGT_BITS-1:0]      wgt_rdata_i,
    output wire                     out_we_o,
    output wire [LOG_OUT_DEPTH-1:0] out_waddr_o,
    output wire [OUT_BITS-1:0]      out_wdata_o,
    // status
    output wire                     busy_o,
    output wire                     stall_o,
    output wire                     retire_o,
    output wire                     gemm_o,
    output wire                     alu_o,
    output wire                     err_o,
    output wire [2:0]               err_code_o
);
`include "tessera_params.vh"

  localparam [2:0] S_IDLE = 3'd0, S_POP = 3'd1, S_EXEC = 3'd2, S_DRAIN = 3'd3, S_PUSH = 3'd4;
  localparam integer LANES = ACC_BITS / ACC_W;

  reg [2:0] state_q, state_d;
  reg       stuck_q, stuck_d;

  // ---------------------------------------------------------------- decode of the head
  wire [127:0] insn = cmd_i[127:0];
  wire [2:0] opcode = insn[F_OPCODE_LSB +: F_OPCODE_W];
  wire pop_prev = insn[F_POP_PREV_LSB];
  wire pop_next = insn[F_POP_NEXT_LSB];
  wire push_prev = insn[F_PUSH_PREV_LSB];
  wire push_next = insn[F_PUSH_NEXT_LSB];
  wire is_load = opcode == OP_LOAD[2:0];
  wire is_gemm = opcode == OP_GEMM[2:0];
  wire is_alu = opcode == OP_ALU[2:0];
  wire [2:0] mem_type = insn[F_MEM_MEM_TYPE_LSB +: F_MEM_MEM_TYPE_W];
  wire is_uop = mem_type == MEM_TYPE_UOP[2:0];
  wire [15:0] pads = {insn[F_MEM_Y_PAD_0_LSB +: 4], insn[F_MEM_Y_PAD_1_LSB +: 4],
                      insn[F_MEM_X_PAD_0_LSB +: 4], insn[F_MEM_X_PAD_1_LSB +: 4]};
  // GEMM and ALU share the loop fields' positions
  wire reset = insn[F_GEMM_RESET_LSB];
  wire [LOG_UOP_DEPTH-1:0] uop_bgn = insn[F_GEMM_UOP_BGN_LSB +: F_GEMM_UOP_BGN_W];
  wire [LOG_UOP_DEPTH:0]   uop_end = insn[F_GEMM_UOP_END_LSB +: F_GEMM_UOP_END_W];
  wire [13:0] iter_out = insn[F_GEMM_ITER_OUT_LSB +: F_GEMM_ITER_OUT_W];
  wire [13:0] iter_in = insn[F_GEMM_ITER_IN_LSB +: F_GEMM_ITER_IN_W];
  wire [31:0] dfo = {{(32-F_GEMM_DST_FACTOR_OUT_W){1'b0}},
                     insn[F_GEMM_DST_FACTOR_OUT_LSB +: F_GEMM_DST_FACTOR_OUT_W]};
  wire [31:0] dfi = {{(32-F_GEMM_DST_FACTOR_IN_W){1'b0}},
                     insn[F_GEMM_DST_FACTOR_IN_LSB +: F_GEMM_DST_FACTOR_IN_W]};
  wire [31:0] sfo = is_alu
      ? {{(32-F_ALU_SRC_FACTOR_OUT_W){1'b0}}, insn[F_ALU_SRC_FACTOR_OUT_LSB +: F_ALU_SRC_FACTOR_OUT_W]}
      : {{(32-F_GEMM_SRC_FACTOR_OUT_W){1'b0}}, insn[F_GEMM_SRC_FACTOR_OUT_LSB +: F_GEMM_SRC_FACTOR_OUT_W]};
  wire [31:0] sfi = is_alu
      ? {{(32-F_ALU_SRC_FACTOR_IN_W){1'b0}}, insn[F_ALU_SRC_FACTOR_IN_LSB +: F_ALU_SRC_FACTOR_IN_W]}
      : {{(32-F_GEMM_SRC_FACTOR_IN_W){1'b0}}, insn[F_GEMM_SRC_FACTOR_IN_LSB +: F_GEMM_SRC_FACTOR_IN_W]};
  wire [31:0] wfo = {{(32-F_GEMM_WGT_FACTOR_OUT_W){1'b0}},
                     insn[F_GEMM_WGT_FACTOR_OUT_LSB +: F_GEMM_WGT_FACTOR_OUT_W]};
  wire [31:0] wfi = {{(32-F_GEMM_WGT_FACTOR_IN_W){1'b0}},
                     insn[F_GEMM_WGT_FACTOR_IN_LSB +: F_GEMM_WGT_FACTOR_IN_W]};
  wire [2:0]  alu_op = insn[F_ALU_ALU_OP_LSB +: F_ALU_ALU_OP_W];
  wire        use_imm = insn[F_ALU_USE_IMM_LSB];
  wire [15:0] imm = insn[F_ALU_IMM_LSB +: F_ALU_IMM_W];

  wire go = !halt_i && !stuck_q;
  wire illegal = state_q == S_IDLE && go && !cmd_empty_i && (
      (is_load && (mem_type == MEM_TYPE_OUT[2:0] || (is_uop && pads != 16'd0)))
      || (is_alu && alu_op > ALU_OP_MUL[2:0]));
  wire can_pop = (!pop_prev || !l2c_empty_i) && (!pop_next || !s2c_empty_i);
  wire can_push = (!push_prev || !c2l_full_i) && (!push_next || !c2s_full_i);
  wire start = state_q == S_POP && go && can_pop;
  wire finish = state_q == S_PUSH && go && can_push;
  wire is_loop = is_gemm || is_alu;
  wire loop_empty = iter_out == 14'd0 || iter_in == 14'd0
      || {1'b0, uop_bgn} >= uop_end;
  wire uop_oor = is_loop && uop_end > UOP_DEPTH[LOG_UOP_DEPTH:0];

  // ---------------------------------------------------------------- loop generator (S0)
  reg        loop_q, loop_d;
  reg [LOG_UOP_DEPTH-1:0] u_q, u_d;
  reg [13:0] i_q, i_d, o_q, o_d;
  reg [31:0] d_out_q, d_out_d, d_in_q, d_in_d;
  reg [31:0] s_out_q, s_out_d, s_in_q, s_in_d;
  reg [31:0] w_out_q, w_out_d, w_in_q, w_in_d;
  // S1 and S2 pipeline registers
  reg        v1_q, v2_q;
  reg [31:0] d1_q, s1_q, w1_q;
  reg [LOG_ACC_DEPTH-1:0] d2_q;
  reg [LOG_ACC_DEPTH-1:0] s2_q;
  // the last cycle's write, for the bypass
  reg                     byp_q;
  reg [LOG_ACC_DEPTH-1:0] byp_d_q;
  reg [ACC_BITS-1:0]      byp_data_q;

  wire issue = loop_q && go;
  wire last_u = {1'b0, u_q} == uop_end - {{LOG_UOP_DEPTH{1'b0}}, 1'b1};
  wire last_i = i_q == iter_in - 14'd1;
  wire last_o = o_q == iter_out - 14'd1;

  wire [ACC_BITS-1:0] acc_a, acc_b;
  wire [UOP_WORD_BITS-1:0] uop;
  wire [31:0] d_idx = {{(32-UOP_DST_W){1'b0}}, uop[UOP_DST_LSB +: UOP_DST_W]} + d1_q;
  wire [31:0] s_idx = {{(32-UOP_SRC_W){1'b0}}, uop[UOP_SRC_LSB +: UOP_SRC_W]} + s1_q;
  wire [31:0] w_idx = {{(32-UOP_WGT_W){1'b0}}, uop[UOP_WGT_LSB +: UOP_WGT_W]} + w1_q;
  wire idx_oor = v1_q && (d_idx >= ACC_DEPTH
      || (is_gemm && !reset && (s_idx >= INP_DEPTH || w_idx >= WGT_DEPTH))
      || (is_alu && !reset && !use_imm && s_idx >= ACC_DEPTH));
  wire s1_ok = v1_q && !idx_oor && !halt_i;

  always @* begin
    loop_d = loop_q;
    u_d = u_q;
    i_d = i_q;
    o_d = o_q;
    d_out_d = d_out_q;
    d_in_d = d_in_q;
    s_out_d = s_out_q;
    s_in_d = s_in_q;
    w_out_d = w_out_q;
    w_in_d = w_in_q;
    if (start && is_loop && !loop_empty && !uop_oor) begin
      loop_d = 1'b1;
      u_d = uop_bgn;
      i_d = 14'd0;
      o_d = 14'd0;
      d_out_d = 32'd0;
      d_in_d = 32'd0;
      s_out_d = 32'd0;
      s_in_d = 32'd0;
      w_out_d = 32'd0;
      w_in_d = 32'd0;
    end
    if (issue) begin
      if (!last_u) begin
        u_d = u_q + {{(LOG_UOP_DEPTH-1){1'b0}}, 1'b1};
      end else begin
        u_d = uop_bgn;
        if (!last_i) begin
          i_d = i_q + 14'd1;
          d_in_d = d_in_q + dfi;
          s_in_d = s_in_q + sfi;
          w_in_d = w_in_q + wfi;
        end else begin
          i_d = 14'd0;
          o_d = o_q + 14'd1;
          d_out_d = d_out_q + dfo;
          s_out_d = s_out_q + sfo;
          w_out_d = w_out_q + wfo;
          d_in_d = d_out_q + dfo;
          s_in_d = s_out_q + sfo;
          w_in_d = w_out_q + wfo;
          if (last_o) loop_d = 1'b0;
        end
      end
    end
    if (idx_oor) loop_d = 1'b0;
  end

  // ---------------------------------------------------------------- S2: compute and write
  wire [ACC_BITS-1:0] a_old = (byp_q && byp_d_q == d2_q) ? byp_data_q : acc_a;
  wire [ACC_BITS-1:0] b_acc = (byp_q && byp_d_q == s2_q) ? byp_data_q : acc_b;
  wire [ACC_BITS-1:0] b_imm = {LANES{{16{imm[15]}}, imm}};
  wire [ACC_BITS-1:0] gemm_y, alu_y;
  wire [ACC_BITS-1:0] result = reset ? {ACC_BITS{1'b0}} : (is_gemm ? gemm_y : alu_y);
  wire write = v2_q;

  tessera_gemm_core u_gemm (.en_i(v2_q && is_gemm && !reset), .inp_i(inp_rdata_i), .wgt_i(wgt_rdata_i), .acc_i(a_old),
                            .acc_o(gemm_y));
  tessera_alu_lanes u_alu (.en_i(v2_q && is_alu && !reset), .op_i(alu_op), .a_i(a_old), .b_i(use_imm ? b_imm : b_acc),
                           .y_o(alu_y));

  reg [OUT_BITS-1:0] narrow;
  integer lane;
  always @* begin
    for (lane = 0; lane < LANES; lane = lane + 1)
      narrow[lane*OUT_W +: OUT_W] = result[lane*ACC_W +: OUT_W];
  end

  // ---------------------------------------------------------------- LOAD of UOP / ACC
  wire ld_done, ld_oor, ld_busy, ld_we;
  wire [SRAM_IDX_W-1:0] ld_waddr;
  wire [ACC_BITS-1:0] ld_wdata;
  wire req_valid, req_ready, d_valid, d_ready, bus_err;
  wire [31:0] req_addr, req_beats;
  wire [BUS_BITS-1:0] d_data;
  reg  ld_uop_q;

  tessera_loader #(.MAXW(ACC_BITS)) u_loader (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .halt_i(halt_i),
    .start_i(start && is_load),
    .sram_base_i(insn[F_MEM_SRAM_BASE_LSB +: F_MEM_SRAM_BASE_W]),
    .dram_base_i(insn[F_MEM_DRAM_BASE_LSB +: F_MEM_DRAM_BASE_W]),
    .y_size_i(insn[F_MEM_Y_SIZE_LSB +: F_MEM_Y_SIZE_W]),
    .x_size_i(insn[F_MEM_X_SIZE_LSB +: F_MEM_X_SIZE_W]),
    .x_stride_i(insn[F_MEM_X_STRIDE_LSB +: F_MEM_X_STRIDE_W]),
    .y_pad_0_i(insn[F_MEM_Y_PAD_0_LSB +: F_MEM_Y_PAD_0_W]),
    .y_pad_1_i(insn[F_MEM_Y_PAD_1_LSB +: F_MEM_Y_PAD_1_W]),
    .x_pad_0_i(insn[F_MEM_X_PAD_0_LSB +: F_MEM_X_PAD_0_W]),
    .x_pad_1_i(insn[F_MEM_X_PAD_1_LSB +: F_MEM_X_PAD_1_W]),
    .log_eb_i(is_uop ? LOG_UOP_BYTES[3:0] : LOG_ACC_BYTES[3:0]),
    .log_depth_i(is_uop ? LOG_UOP_DEPTH[4:0] : LOG_ACC_DEPTH[4:0]),
    .busy_o(ld_busy), .done_o(ld_done), .oor_o(ld_oor),
    .we_o(ld_we), .waddr_o(ld_waddr), .wdata_o(ld_wdata),
    .req_valid_o(req_valid), .req_addr_o(req_addr), .req_beats_o(req_beats),
    .req_ready_i(req_ready), .d_valid_i(d_valid), .d_data_i(d_data), .d_ready_o(d_ready)
  );

  tessera_dma_reader u_dma (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .halt_i(halt_i),
    .req_valid_i(req_valid), .req_addr_i(req_addr), .req_beats_i(req_beats),
    .req_ready_o(req_ready), .credit_i(16'hffff),
    .ar_valid_o(ar_valid_o), .ar_addr_o(ar_addr_o), .ar_len_o(ar_len_o),
    .ar_ready_i(ar_ready_i), .r_valid_i(r_valid_i), .r_data_i(r_data_i), .r_last_i(r_last_i),
    .r_resp_i(r_resp_i), .r_ready_o(r_ready_o), .d_valid_o(d_valid), .d_data_o(d_data),
    .d_ready_i(d_ready), .quiet_o(quiet_o), .bus_err_o(bus_err)
  );

  // ---------------------------------------------------------------- buffers
  wire acc_we = write || (ld_we && !ld_uop_q);
  wire [LOG_ACC_DEPTH-1:0] acc_waddr = write ? d2_q : ld_waddr[LOG_ACC_DEPTH-1:0];
  wire [ACC_BITS-1:0] acc_wdata = write ? result : ld_wdata;

  tessera_ram #(.WIDTH(UOP_WORD_BITS), .LOG_DEPTH(LOG_UOP_DEPTH)) u_uop (
    .clk_i(clk_i), .we_i(ld_we && ld_uop_q), .waddr_i(ld_waddr[LOG_UOP_DEPTH-1:0]),
    .wdata_i(ld_wdata[UOP_WORD_BITS-1:0]), .re_i(issue), .raddr_i(u_q), .rdata_o(uop)
  );
  tessera_ram #(.WIDTH(ACC_BITS), .LOG_DEPTH(LOG_ACC_DEPTH)) u_acc_a (
    .clk_i(clk_i), .we_i(acc_we), .waddr_i(acc_waddr), .wdata_i(acc_wdata),
    .re_i(s1_ok), .raddr_i(d_idx[LOG_ACC_DEPTH-1:0]), .rdata_o(acc_a)
  );
  tessera_ram #(.WIDTH(ACC_BITS), .LOG_DEPTH(LOG_ACC_DEPTH)) u_acc_b (
    .clk_i(clk_i), .we_i(acc_we), .waddr_i(acc_waddr), .wdata_i(acc_wdata),
    .re_i(s1_ok && is_alu), .raddr_i(s_idx[LOG_ACC_DEPTH-1:0]), .rdata_o(acc_b)
  );

  // ---------------------------------------------------------------- control
  always @* begin
    state_d = state_q;
    stuck_d = stuck_q;
    case (state_q)
      S_IDLE: if (go && !cmd_empty_i) begin
        if (illegal) stuck_d = 1'b1;
        else state_d = S_POP;
      end
      S_POP: if (start) begin
        if ((is_load && ld_oor) || uop_oor) stuck_d = 1'b1;
        else if (is_load || (is_loop && !loop_empty)) state_d = S_EXEC;
        else state_d = S_PUSH;
      end
      S_EXEC: begin
        if (is_load && ld_done) state_d = S_PUSH;
        if (is_loop && !loop_q) state_d = S_DRAIN;
      end
      S_DRAIN: if (!v1_q && !v2_q) state_d = S_PUSH;
      default: if (finish) state_d = S_IDLE;
    endcase
    if (idx_oor) stuck_d = 1'b1;
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      state_q <= S_IDLE;
      stuck_q <= 1'b0;
      loop_q <= 1'b0;
      u_q <= {LOG_UOP_DEPTH{1'b0}};
      i_q <= 14'd0;
      o_q <= 14'd0;
      d_out_q <= 32'd0;
      d_in_q <= 32'd0;
      s_out_q <= 32'd0;
      s_in_q <= 32'd0;
      w_out_q <= 32'd0;
      w_in_q <= 32'd0;
      v1_q <= 1'b0;
      v2_q <= 1'b0;
      byp_q <= 1'b0;
    end else begin
      state_q <= state_d;
      stuck_q <= stuck_d;
      loop_q <= loop_d;
      u_q <= u_d;
      i_q <= i_d;
      o_q <= o_d;
      d_out_q <= d_out_d;
      d_in_q <= d_in_d;
      s_out_q <= s_out_d;
      s_in_q <= s_in_d;
      w_out_q <= w_out_d;
      w_in_q <= w_in_d;
      v1_q <= issue;
      v2_q <= s1_ok;
      byp_q <= write;
    end
  end

  // data registers without reset
  always @(posedge clk_i) begin
    d1_q <= d_in_q;
    s1_q <= s_in_q;
    w1_q <= w_in_q;
    d2_q <= d_idx[LOG_ACC_DEPTH-1:0];
    s2_q <= s_idx[LOG_ACC_DEPTH-1:0];
    if (write) begin
      byp_d_q <= d2_q;
      byp_data_q <= result;
    end
    if (start) ld_uop_q <= is_uop;
  end

  wire unused_ok = &{1'b0, uop, cmd_i[159:128], ld_busy, ld_waddr, ld_wdata, d_idx, s_idx,
                     w_idx, 1'b0};

  assign cmd_pop_o = finish;
  assign l2c_pop_o = start && pop_prev && !((is_load && ld_oor) || uop_oor);
  assign s2c_pop_o = start && pop_next && !((is_load && ld_oor) || uop_oor);
  assign c2l_push_o = finish && push_prev;
  assign c2s_push_o = finish && push_next;
  assign inp_re_o = s1_ok && is_gemm;
  assign inp_raddr_o = s_idx[LOG_INP_DEPTH-1:0];
  assign wgt_re_o = s1_ok && is_gemm;
  assign wgt_raddr_o = w_idx[LOG_WGT_DEPTH-1:0];
  assign out_we_o = write;
  assign out_waddr_o = d2_q;
  assign out_wdata_o = narrow;
  assign busy_o = state_q == S_EXEC || state_q == S_DRAIN;
  assign stall_o = (state_q == S_POP && !can_pop) || (state_q == S_PUSH && !can_push);
  assign retire_o = finish;
  assign gemm_o = write && is_gemm && !reset;  // a reset is no block product
  assign alu_o = write && is_alu;
  assign err_o = illegal || (start && ((is_load && ld_oor) || uop_oor)) || idx_oor || bus_err;
  assign err_code_o = bus_err ? ERR_BUS_ERROR[2:0]
      : (illegal ? ERR_ILLEGAL_INSN[2:0] : ERR_OUT_OF_RANGE[2:0]);
endmodule

`default_nettype wire
