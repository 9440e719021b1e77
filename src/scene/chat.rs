//! Instruct models' chat form: the ChatML turns (`<|im_start|>user ... <|im_end|>`) that
//! SmolLM2-Instruct and Qwen2-Instruct were trained on, read from the model's Jinja chat
//! template (`tokenizer.chat_template` in a GGUF file, `chat_template` in
//! `tokenizer_config.json`) far enough to find the form and its default system message.

const START: &str = "<|im_start|>";
/// The end of a turn: the token generation stops at.
pub const END_OF_TURN: &str = "<|im_end|>";

/// The chat form of one model.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatTemplate {
    /// The system turn the template puts first when the conversation has none.
    default_system: Option<String>,
}

impl ChatTemplate {
    /// The form a Jinja template writes, or why it is not read: only ChatML templates are.
    pub fn from_jinja(template: &str) -> Result<ChatTemplate, String> {
        if !template.contains(START) || !template.contains(END_OF_TURN) {
            return Err(
                "the chat template is not ChatML (<|im_start|>role ... <|im_end|>), the only form \
                 --chat writes so far"
                    .to_string(),
            );
        }
        // A literal system turn in the template: its default system message.
        let system = format!("{START}system\n");
        let default_system = template.find(&system).and_then(|at| {
            let rest = &template[at + system.len()..];
            rest.find(END_OF_TURN).map(|end| rest[..end].to_string())
        });
        Ok(ChatTemplate { default_system })
    }

    /// The text of a conversation of one user message, ready for the assistant's answer.
    pub fn prompt(&self, user: &str) -> String {
        let mut text = String::new();
        if let Some(system) = &self.default_system {
            text += &format!("{START}system\n{system}{END_OF_TURN}\n");
        }
        text += &format!("{START}user\n{user}{END_OF_TURN}\n{START}assistant\n");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's template, as its GGUF file holds it.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn chatml_with_the_templates_default_system_turn() {
        let chat = ChatTemplate::from_jinja(SMOLLM2).unwrap();
        assert_eq!(
            chat.prompt("Hi"),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging \
             Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn other_forms_are_named() {
        let llama2 = "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}";
        assert!(ChatTemplate::from_jinja(llama2)
            .unwrap_err()
            .contains("not ChatML"));
    }
}
